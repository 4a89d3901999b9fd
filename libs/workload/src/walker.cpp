#include "walker.hpp"

#include <algorithm>

namespace workload {

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

const boost::json::object* Walker::object(const boost::json::value& value, const std::string& path) {
  if (auto* obj = value.if_object()) return obj;
  fail(path, "must be an object");
  return nullptr;
}

const boost::json::array* Walker::array(const boost::json::value& value, const std::string& path) {
  if (auto* arr = value.if_array()) return arr;
  fail(path, "must be a list");
  return nullptr;
}

void Walker::only(const boost::json::object& object, const std::string& path,
                  std::initializer_list<std::string_view> known) {
  for (const auto& [key, _] : object) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end())
      fail(join_path(path, key), "is not a known field");
  }
}

const boost::json::value* Walker::required(const boost::json::object& object, const std::string& path,
                                           std::string_view key) {
  if (auto* v = object.if_contains(key)) return v;
  fail(join_path(path, key), "is required");
  return nullptr;
}

std::optional<std::string> Walker::string(const boost::json::value& value, const std::string& path) {
  if (auto* s = value.if_string()) return std::string(*s);
  fail(path, "must be a string");
  return std::nullopt;
}

std::optional<bool> Walker::boolean(const boost::json::value& value, const std::string& path) {
  if (auto* b = value.if_bool()) return *b;
  fail(path, "must be true or false");
  return std::nullopt;
}

std::optional<std::int64_t> Walker::integer(const boost::json::value& value, const std::string& path, std::int64_t min,
                                            std::int64_t max) {
  std::optional<std::int64_t> v;
  if (auto* i = value.if_int64())
    v = *i;
  else if (auto* u = value.if_uint64(); u && *u <= static_cast<std::uint64_t>(INT64_MAX))
    v = static_cast<std::int64_t>(*u);
  if (!v || *v < min || *v > max) {
    fail(path, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> Walker::number(const boost::json::value& value, const std::string& path) {
  if (value.is_number()) return value.to_number<double>();
  fail(path, "must be a number");
  return std::nullopt;
}

std::optional<Duration> Walker::duration(const boost::json::value& value, const std::string& path) {
  if (auto* s = value.if_string()) {
    if (auto d = parse_duration(*s)) return d;
  }
  fail(path, "must be a duration (e.g. 30s, 5m, 1h30m)");
  return std::nullopt;
}

std::vector<std::string> Walker::strings(const boost::json::value& value, const std::string& path) {
  std::vector<std::string> out;
  if (auto* arr = array(value, path)) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      if (auto s = string((*arr)[i], index_path(path, i))) out.push_back(*s);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Walker::string_map(const boost::json::value& value,
                                                                    const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (auto* obj = object(value, path)) {
    for (const auto& [key, v] : *obj) {
      if (auto s = string(v, join_path(path, key))) out.emplace_back(std::string(key), *s);
    }
  }
  return out;
}

}  // namespace workload
