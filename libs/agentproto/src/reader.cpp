#include "reader.hpp"

#include <limits>

#include "common/json_writer.hpp"

namespace agentproto {

ProtocolError::ProtocolError(std::string field, const std::string& why)
    : std::runtime_error(field + ": " + why), field_(std::move(field)) {}

std::string write_value(const boost::json::value& value) { return common::write_json(value); }

boost::json::value parse_value(std::string_view text, const char* document) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) throw ProtocolError(document, "not valid JSON (" + ec.message() + ")");
  return value;
}

namespace detail {

const char* const kInstanceStates[11] = {"creating", "installing", "install_failed", "starting",
                                         "running",  "stopping",   "stopped",        "crashed",
                                         "error",    "migrating",  "deleting"};
const char* const kPowerStates[3] = {"running", "stopped", "deleted"};
const char* const kEventKinds[3] = {"transition", "crash", "install"};
const char* const kChannelKinds[4] = {"console", "logs", "terminal", "container_logs"};
const char* const kRequestKinds[7] = {"inventory",      "container_start", "container_stop", "container_restart",
                                     "container_kill", "process_kill",    "git_sync"};
const char* const kGitAuths[3] = {"none", "token", "ssh_key"};
const char* const kProcessScopes[2] = {"instances", "any"};
const char* const kRestartModes[3] = {"never", "on-failure", "always"};
const char* const kHealthcheckKinds[3] = {"tcp", "http", "exec"};
const char* const kConfigParsers[6] = {"file", "properties", "ini", "json", "yaml", "xml"};

Reader::Reader(const boost::json::value& value, std::string path) : path_(std::move(path)) {
  if (!value.is_object()) throw ProtocolError(path_, "must be an object");
  object_ = &value.as_object();
}

void Reader::fail(const char* name, const std::string& why) const { throw ProtocolError(at(name), why); }

void Reader::version() {
  auto v = u64("v");
  if (v != static_cast<std::uint64_t>(kVersion))
    fail("v", "unsupported protocol version " + std::to_string(v) + " (this side speaks " + std::to_string(kVersion) + ")");
}

void Reader::done() const {
  for (const auto& field : *object_)
    if (!read_.contains(std::string(field.key()))) throw ProtocolError(at(std::string(field.key()).c_str()), "unknown field");
}

bool Reader::has(const char* name) const {
  auto* v = object_->if_contains(name);
  return v && !v->is_null();
}

const boost::json::value* Reader::optional(const char* name) {
  read_.insert(name);
  auto* v = object_->if_contains(name);
  return v && !v->is_null() ? v : nullptr;
}

const boost::json::value& Reader::required(const char* name) {
  auto* v = optional(name);
  if (!v) fail(name, "is missing");
  return *v;
}

std::optional<std::string> Reader::opt_string(const char* name) {
  auto* v = optional(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(name, "must be a string");
  return std::string(v->as_string());
}

std::string Reader::string(const char* name) {
  if (!optional(name)) fail(name, "is missing");
  return *opt_string(name);
}

std::optional<std::uint64_t> Reader::opt_u64(const char* name) {
  auto* v = optional(name);
  if (!v) return std::nullopt;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
  fail(name, "must be a non-negative integer");
}

std::uint64_t Reader::u64(const char* name) {
  if (!optional(name)) fail(name, "is missing");
  return *opt_u64(name);
}

std::uint32_t Reader::u32(const char* name) {
  auto n = u64(name);
  if (n > std::numeric_limits<std::uint32_t>::max()) fail(name, "is too large");
  return static_cast<std::uint32_t>(n);
}

std::optional<int> Reader::opt_integer(const char* name) {
  auto* v = optional(name);
  if (!v) return std::nullopt;
  if (v->is_int64() && v->as_int64() >= std::numeric_limits<int>::min() && v->as_int64() <= std::numeric_limits<int>::max())
    return static_cast<int>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
    return static_cast<int>(v->as_uint64());
  fail(name, "must be an integer");
}

int Reader::integer(const char* name) {
  if (!optional(name)) fail(name, "is missing");
  return *opt_integer(name);
}

double Reader::number(const char* name) {
  const auto& v = required(name);
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  fail(name, "must be a number");
}

std::optional<bool> Reader::opt_boolean(const char* name) {
  auto* v = optional(name);
  if (!v) return std::nullopt;
  if (!v->is_bool()) fail(name, "must be true or false");
  return v->as_bool();
}

bool Reader::boolean(const char* name) {
  if (!optional(name)) fail(name, "is missing");
  return *opt_boolean(name);
}

std::vector<std::string> Reader::strings(const char* name) {
  const auto& v = required(name);
  if (!v.is_array()) fail(name, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) fail(name, "must be an array of strings");
    out.emplace_back(item.as_string());
  }
  return out;
}

std::map<std::string, std::string> Reader::string_map(const char* name) {
  const auto& v = required(name);
  if (!v.is_object()) fail(name, "must be an object of strings");
  std::map<std::string, std::string> out;
  for (const auto& [key, item] : v.as_object()) {
    if (!item.is_string()) throw ProtocolError(at(name) + "." + std::string(key), "must be a string");
    out.emplace(std::string(key), std::string(item.as_string()));
  }
  return out;
}

boost::json::array Reader::array(const char* name) {
  const auto& v = required(name);
  if (!v.is_array()) fail(name, "must be an array");
  return v.as_array();
}

boost::json::object Reader::object_value(const char* name) {
  const auto& v = required(name);
  if (!v.is_object()) fail(name, "must be an object");
  return v.as_object();
}

Reader Reader::object(const char* name) { return Reader(required(name), at(name)); }

boost::json::array to_array(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

boost::json::object to_object(const std::map<std::string, std::string>& items) {
  boost::json::object o;
  for (const auto& [k, v] : items) o[k] = v;
  return o;
}

}  // namespace detail

const char* to_string(InstanceState s) { return detail::kInstanceStates[static_cast<int>(s)]; }
const char* to_string(PowerState s) { return detail::kPowerStates[static_cast<int>(s)]; }
const char* to_string(EventKind k) { return detail::kEventKinds[static_cast<int>(k)]; }
const char* to_string(ChannelKind k) { return detail::kChannelKinds[static_cast<int>(k)]; }
const char* to_string(RequestKind k) { return detail::kRequestKinds[static_cast<int>(k)]; }
const char* to_string(GitAuth a) { return detail::kGitAuths[static_cast<int>(a)]; }
const char* to_string(ProcessScope s) { return detail::kProcessScopes[static_cast<int>(s)]; }
const char* to_string(RestartMode m) { return detail::kRestartModes[static_cast<int>(m)]; }
const char* to_string(HealthcheckKind k) { return detail::kHealthcheckKinds[static_cast<int>(k)]; }

}  // namespace agentproto
