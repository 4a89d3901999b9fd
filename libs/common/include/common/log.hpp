#pragma once
// Structured logging: one JSON object per line on stdout.
#include <cstddef>
#include <string_view>

#include <boost/json/object.hpp>

namespace common::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// Sets the minimum level; parses "debug", "info", "warn", "error" (false when unknown).
bool set_level(std::string_view level);
void set_service(std::string_view name);
bool enabled(Level level);
// Writes {"time","level","service","msg",...fields} as one line, atomically.
void write(Level level, std::string_view message, boost::json::object fields = {});

// One access-log line per request, formatted without building a JSON object (hot path).
struct AccessRecord {
  std::string_view request_id, method, route, path, client_ip;
  int status = 0;
  long long duration_us = 0;
  std::size_t bytes = 0;
};
void access(const AccessRecord& record);

inline void debug(std::string_view m, boost::json::object f = {}) { write(Level::Debug, m, std::move(f)); }
inline void info(std::string_view m, boost::json::object f = {}) { write(Level::Info, m, std::move(f)); }
inline void warn(std::string_view m, boost::json::object f = {}) { write(Level::Warn, m, std::move(f)); }
inline void error(std::string_view m, boost::json::object f = {}) { write(Level::Error, m, std::move(f)); }

}  // namespace common::log
