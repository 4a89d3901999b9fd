#pragma once
// Reads fields of a JSON document while recording errors by field path, so that one pass over
// a document reports every bad field ("spec.ports[0].containerPort: must be an integer").
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "workload/errors.hpp"
#include "workload/quantity.hpp"

namespace workload {

std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

class Walker {
 public:
  explicit Walker(ErrorList& errors) : errors_(errors) {}
  void fail(const std::string& path, std::string message) { errors_.add(path, std::move(message)); }

  // The object at `path`, or null (with an error) when the value is something else.
  const boost::json::object* object(const boost::json::value& value, const std::string& path);
  const boost::json::array* array(const boost::json::value& value, const std::string& path);
  // Reports every key of `object` that is not in `known`.
  void only(const boost::json::object& object, const std::string& path, std::initializer_list<std::string_view> known);
  // A required field missing is reported; returns null then.
  const boost::json::value* required(const boost::json::object& object, const std::string& path, std::string_view key);

  std::optional<std::string> string(const boost::json::value& value, const std::string& path);
  std::optional<bool> boolean(const boost::json::value& value, const std::string& path);
  std::optional<std::int64_t> integer(const boost::json::value& value, const std::string& path, std::int64_t min,
                                      std::int64_t max);
  std::optional<double> number(const boost::json::value& value, const std::string& path);
  std::optional<Duration> duration(const boost::json::value& value, const std::string& path);
  std::vector<std::string> strings(const boost::json::value& value, const std::string& path);
  // An object of string values (labels, env, images).
  std::vector<std::pair<std::string, std::string>> string_map(const boost::json::value& value, const std::string& path);

 private:
  ErrorList& errors_;
};

}  // namespace workload
