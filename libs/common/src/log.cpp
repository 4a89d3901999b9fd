#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>


#include "common/clock.hpp"
#include "common/json_writer.hpp"

namespace common::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_mutex;
std::string g_service;

const char* level_name(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}
void write_line(const std::string& text) {
  std::lock_guard lock(g_mutex);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      // Client-controlled bytes: escaping everything outside printable ASCII keeps every
      // line valid JSON whatever the client sent.
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

void access(const AccessRecord& r) {
  if (!enabled(Level::Info)) return;
  thread_local std::string line;
  line.clear();
  line += "{\"time\":";
  append_escaped(line, rfc3339_now(true));
  line += ",\"level\":\"info\",\"service\":";
  {
    std::lock_guard lock(g_mutex);
    append_escaped(line, g_service);
  }
  line += ",\"msg\":\"request\",\"request_id\":";
  append_escaped(line, r.request_id);
  line += ",\"method\":";
  append_escaped(line, r.method);
  line += ",\"route\":";
  append_escaped(line, r.route);
  line += ",\"path\":";
  append_escaped(line, r.path);
  line += ",\"status\":" + std::to_string(r.status);
  line += ",\"duration_us\":" + std::to_string(r.duration_us);
  line += ",\"client_ip\":";
  append_escaped(line, r.client_ip);
  line += ",\"bytes\":" + std::to_string(r.bytes) + "}\n";
  write_line(line);
}

bool set_level(std::string_view level) {
  for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (level == level_name(l)) {
      g_level = static_cast<int>(l);
      return true;
    }
  }
  return false;
}

void set_service(std::string_view name) {
  std::lock_guard lock(g_mutex);
  g_service = std::string(name);
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message, boost::json::object fields) {
  if (!enabled(level)) return;
  boost::json::object line;
  line.reserve(fields.size() + 4);
  line["time"] = rfc3339_now(true);
  line["level"] = level_name(level);
  {
    std::lock_guard lock(g_mutex);
    if (!g_service.empty()) line["service"] = g_service;
  }
  line["msg"] = message;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  std::string text = write_json(line);
  text.push_back('\n');
  write_line(text);
}

}  // namespace common::log
