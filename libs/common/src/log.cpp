#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include <boost/json/serialize.hpp>

#include "common/clock.hpp"

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
}  // namespace

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
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  std::lock_guard lock(g_mutex);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace common::log
