// Tunnel frames: {"v":1, "type": open|data|credit|close|request|response, ...}.
#include <cctype>

#include "agentproto/json.hpp"
#include "reader.hpp"

namespace agentproto {

using detail::Reader;
namespace json = boost::json;

namespace {

json::object frame(const char* type, std::uint64_t channel) {
  return {{"v", kVersion}, {"type", type}, {"channel", channel}};
}

// A reader for a frame of `type`, its version checked.
Reader frame_reader(const json::value& in, const char* type) {
  Reader r(in, std::string("frame"));
  r.version();
  auto t = r.string("type");
  if (t != type) r.fail("type", std::string("must be ") + type + ", got '" + t + "'");
  return r;
}

}  // namespace

void tag_invoke(json::value_from_tag, json::value& out, const OpenChannel& m) {
  auto o = frame("open", m.channel);
  o["kind"] = to_string(m.kind);
  o["instance_id"] = m.instance_id;
  if (m.since_seq) o["since_seq"] = *m.since_seq;
  o["cols"] = m.cols;
  o["rows"] = m.rows;
  o["window_bytes"] = m.window_bytes;
  if (m.kind == ChannelKind::ContainerLogs) {
    o["container_id"] = m.container_id;
    if (m.tail) o["tail"] = *m.tail;
    o["follow"] = m.follow;
  }
  out = std::move(o);
}

OpenChannel tag_invoke(json::value_to_tag<OpenChannel>, const json::value& in) {
  auto r = frame_reader(in, "open");
  OpenChannel m;
  m.channel = r.u64("channel");
  m.kind = r.choice<ChannelKind>("kind", detail::kChannelKinds);
  m.instance_id = r.string("instance_id");
  bool of_instance = m.kind == ChannelKind::Console || m.kind == ChannelKind::Logs;
  if (of_instance && m.instance_id.empty()) r.fail("instance_id", "must name the instance");
  m.container_id = r.opt_string("container_id").value_or("");
  if (m.kind == ChannelKind::ContainerLogs && !valid_container_ref(m.container_id))
    r.fail("container_id", "must name a container ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
  m.tail = r.opt_u64("tail");
  m.follow = r.opt_boolean("follow").value_or(false);
  m.since_seq = r.opt_u64("since_seq");
  m.cols = r.u32("cols");
  m.rows = r.u32("rows");
  m.window_bytes = r.u64("window_bytes");
  if (m.window_bytes == 0) r.fail("window_bytes", "must be at least 1");
  r.done();
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const ChannelData& m) {
  auto o = frame("data", m.channel);
  o["event"] = m.event;
  o["args"] = m.args;
  if (m.seq) o["seq"] = *m.seq;
  out = std::move(o);
}

ChannelData tag_invoke(json::value_to_tag<ChannelData>, const json::value& in) {
  auto r = frame_reader(in, "data");
  ChannelData m;
  m.channel = r.u64("channel");
  m.event = r.string("event");
  if (m.event.empty()) r.fail("event", "must not be empty");
  m.args = r.array("args");
  m.seq = r.opt_u64("seq");
  r.done();
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const ChannelCredit& m) {
  auto o = frame("credit", m.channel);
  o["bytes"] = m.bytes;
  out = std::move(o);
}

ChannelCredit tag_invoke(json::value_to_tag<ChannelCredit>, const json::value& in) {
  auto r = frame_reader(in, "credit");
  ChannelCredit m{r.u64("channel"), r.u64("bytes")};
  r.done();
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const CloseChannel& m) {
  auto o = frame("close", m.channel);
  o["reason"] = m.reason;
  out = std::move(o);
}

CloseChannel tag_invoke(json::value_to_tag<CloseChannel>, const json::value& in) {
  auto r = frame_reader(in, "close");
  CloseChannel m{r.u64("channel"), r.string("reason")};
  r.done();
  return m;
}

namespace {

json::object git_json(const GitSyncSpec& g) {
  return {{"instance_id", g.instance_id}, {"repository", g.repository}, {"branch", g.branch}, {"target", g.target},
          {"auth", to_string(g.auth)},     {"secret", g.secret},         {"timeout_s", g.timeout_s}};
}

GitSyncSpec read_git(Reader& r) {
  auto g = r.object("git");
  GitSyncSpec m;
  m.instance_id = g.string("instance_id");
  if (m.instance_id.empty()) g.fail("instance_id", "must not be empty");
  m.repository = g.string("repository");
  if (!valid_git_repository(m.repository)) g.fail("repository", "must be an https, http, ssh or git URL");
  m.branch = g.string("branch");
  if (!valid_git_branch(m.branch)) g.fail("branch", "must be a branch name");
  m.target = g.string("target");
  if (!valid_git_target(m.target)) g.fail("target", "must be a relative path without '..'");
  m.auth = g.choice<GitAuth>("auth", detail::kGitAuths);
  m.secret = g.string("secret");
  auto t = g.u64("timeout_s");
  if (t < 1 || t > 3600) g.fail("timeout_s", "must be 1 to 3600");
  m.timeout_s = static_cast<std::uint32_t>(t);
  g.done();
  return m;
}

}  // namespace

void tag_invoke(json::value_from_tag, json::value& out, const TunnelRequest& m) {
  json::object o{{"v", kVersion}, {"type", "request"}, {"id", m.id}, {"kind", to_string(m.kind)},
                 {"sections", detail::to_array(m.sections)}};
  switch (m.kind) {
    case RequestKind::Inventory:
      break;
    case RequestKind::GitSync:
      if (m.git) o["git"] = git_json(*m.git);
      break;
    case RequestKind::ProcessKill:
      if (m.pid) o["pid"] = *m.pid;
      o["scope"] = to_string(m.scope);
      if (!m.signal.empty()) o["signal"] = m.signal;
      break;
    default:  // a container action
      o["container_id"] = m.container_id;
      if (!m.signal.empty()) o["signal"] = m.signal;
      if (m.timeout_s) o["timeout_s"] = *m.timeout_s;
  }
  out = std::move(o);
}

namespace {

// The fields of a container action or a process kill; each kind takes only its own.
void read_action(Reader& r, TunnelRequest& m) {
  if (m.kind == RequestKind::ProcessKill) {
    m.pid = r.u64("pid");
    if (*m.pid < 1 || *m.pid > 4194304) r.fail("pid", "must be a process id (1 to 4194304)");
    m.scope = r.has("scope") ? r.choice<ProcessScope>("scope", detail::kProcessScopes) : ProcessScope::Instances;
  } else {
    m.container_id = r.string("container_id");
    if (!valid_container_ref(m.container_id))
      r.fail("container_id", "must name a container ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
    if (m.kind == RequestKind::ContainerStop || m.kind == RequestKind::ContainerRestart) {
      if (auto t = r.opt_u64("timeout_s")) {
        if (*t > 3600) r.fail("timeout_s", "must be at most 3600");
        m.timeout_s = static_cast<std::uint32_t>(*t);
      }
    }
  }
  if (m.kind == RequestKind::ProcessKill || m.kind == RequestKind::ContainerKill) {
    m.signal = r.opt_string("signal").value_or("");
    if (!m.signal.empty() && !known_signal(m.signal)) r.fail("signal", "must be a signal name (SIGTERM), got '" + m.signal + "'");
  }
}

}  // namespace

TunnelRequest tag_invoke(json::value_to_tag<TunnelRequest>, const json::value& in) {
  auto r = frame_reader(in, "request");
  TunnelRequest m;
  m.id = r.string("id");
  if (m.id.empty()) r.fail("id", "must not be empty");
  m.kind = r.choice<RequestKind>("kind", detail::kRequestKinds);
  m.sections = r.strings("sections");
  if (m.kind == RequestKind::GitSync) m.git = read_git(r);
  else if (m.kind != RequestKind::Inventory) read_action(r, m);
  r.done();
  return m;
}

bool valid_git_repository(std::string_view url) {
  if (url.empty() || url.size() > 2048 || url.front() == '-') return false;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  for (std::string_view scheme : {"https://", "http://", "ssh://", "git://"})
    if (url.starts_with(scheme)) return url.size() > scheme.size();
  // scp-like user@host:path (what `git clone git@github.com:o/r.git` takes)
  auto at = url.find('@'), colon = url.find(':');
  return at != std::string_view::npos && colon != std::string_view::npos && at > 0 && colon > at + 1 &&
         colon + 1 < url.size() && url.find('/') > colon;
}

bool valid_git_branch(std::string_view branch) {
  if (branch.empty() || branch.size() > 255 || branch.front() == '-' || branch.front() == '/' ||
      branch.back() == '/' || branch.back() == '.' || branch.ends_with(".lock") ||
      branch.find("..") != std::string_view::npos || branch.find("//") != std::string_view::npos ||
      branch.find("@{") != std::string_view::npos)
    return false;
  for (char c : branch)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || std::string_view("~^:?*[\\").find(c) != std::string_view::npos)
      return false;
  return true;
}

bool valid_git_target(std::string_view target) {
  if (target.size() > 1024 || target.starts_with('/')) return false;
  std::size_t start = 0;
  while (start <= target.size()) {
    auto end = target.find('/', start);
    if (end == std::string_view::npos) end = target.size();
    auto part = target.substr(start, end - start);
    if (part == ".." || (part.empty() && end != target.size())) return false;
    start = end + 1;
  }
  for (char c : target)
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) return false;
  return true;
}

bool known_signal(std::string_view name) {
  for (std::string_view known : {"SIGHUP", "SIGINT", "SIGQUIT", "SIGABRT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM",
                                 "SIGCONT", "SIGSTOP", "SIGWINCH"})
    if (name == known) return true;
  return false;
}

bool valid_container_ref(std::string_view ref) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (ref.empty() || ref.size() > 128 || !word(ref.front())) return false;
  for (char c : ref)
    if (!word(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

void tag_invoke(json::value_from_tag, json::value& out, const TunnelResponse& m) {
  json::object o{{"v", kVersion}, {"type", "response"}, {"id", m.id}};
  if (m.body) o["body"] = *m.body;
  else o["error"] = {{"code", m.error_code}, {"message", m.error_message}};
  out = std::move(o);
}

TunnelResponse tag_invoke(json::value_to_tag<TunnelResponse>, const json::value& in) {
  auto r = frame_reader(in, "response");
  TunnelResponse m;
  m.id = r.string("id");
  if (r.has("body") == r.has("error")) r.fail("body", "exactly one of body and error must be present");
  if (r.has("body")) {
    m.body = r.object_value("body");
  } else {
    auto e = r.object("error");
    m.error_code = e.string("code");
    m.error_message = e.string("message");
    e.done();
  }
  r.mark("body");
  r.mark("error");
  r.done();
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const TunnelFrame& f) {
  std::visit([&out](const auto& m) { out = json::value_from(m); }, f);
}

TunnelFrame tag_invoke(json::value_to_tag<TunnelFrame>, const json::value& in) {
  Reader peek(in, "frame");
  peek.version();
  auto type = peek.string("type");
  if (type == "open") return json::value_to<OpenChannel>(in);
  if (type == "data") return json::value_to<ChannelData>(in);
  if (type == "credit") return json::value_to<ChannelCredit>(in);
  if (type == "close") return json::value_to<CloseChannel>(in);
  if (type == "request") return json::value_to<TunnelRequest>(in);
  if (type == "response") return json::value_to<TunnelResponse>(in);
  peek.fail("type", "must be one of open, data, credit, close, request, response, got '" + type + "'");
}

}  // namespace agentproto
