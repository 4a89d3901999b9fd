#pragma once
// The strict reader behind every value_to: one JSON object at a path, read field by field;
// done() refuses the fields nobody asked for. Every failure names the field's full path.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "agentproto/messages.hpp"

namespace agentproto::detail {

class Reader {
 public:
  Reader(const boost::json::value& value, std::string path);

  const std::string& path() const { return path_; }
  std::string at(const char* name) const { return path_ + "." + name; }
  // "v" must be present and equal kVersion.
  void version();
  // Unknown fields are refused: the first one not read is named.
  void done() const;

  bool has(const char* name) const;
  // Counts a field as read (an optional one that was absent or null, or read another way).
  void mark(const char* name) { read_.insert(name); }
  std::string string(const char* name);
  std::optional<std::string> opt_string(const char* name);
  std::uint64_t u64(const char* name);
  std::optional<std::uint64_t> opt_u64(const char* name);
  std::uint32_t u32(const char* name);
  int integer(const char* name);
  std::optional<int> opt_integer(const char* name);
  double number(const char* name);
  bool boolean(const char* name);
  std::optional<bool> opt_boolean(const char* name);
  std::vector<std::string> strings(const char* name);
  std::map<std::string, std::string> string_map(const char* name);
  boost::json::array array(const char* name);
  boost::json::object object_value(const char* name);
  Reader object(const char* name);
  // Each element of an array of objects, as a reader at name[i].
  template <class F>
  void each(const char* name, F&& read_one) {
    const auto& items = required(name);
    if (!items.is_array()) fail(name, "must be an array");
    std::size_t i = 0;
    for (const auto& item : items.as_array()) {
      Reader r(item, at(name) + "[" + std::to_string(i++) + "]");
      read_one(r);
      r.done();
    }
  }
  // A string one of `names` (in enum order).
  template <class E, std::size_t N>
  E choice(const char* name, const char* const (&names)[N]) {
    auto text = string(name);
    for (std::size_t i = 0; i < N; ++i)
      if (text == names[i]) return static_cast<E>(i);
    std::string allowed;
    for (std::size_t i = 0; i < N; ++i) allowed += (i ? ", " : "") + std::string(names[i]);
    fail(name, "must be one of " + allowed + ", got '" + text + "'");
  }

  [[noreturn]] void fail(const char* name, const std::string& why) const;

 private:
  const boost::json::value& required(const char* name);
  const boost::json::value* optional(const char* name);
  const boost::json::object* object_;
  std::string path_;
  std::set<std::string> read_;
};

// The names of an enum's values, in order, for to_string and Reader::choice.
extern const char* const kInstanceStates[11];
extern const char* const kPowerStates[3];
extern const char* const kEventKinds[3];
extern const char* const kChannelKinds[4];
extern const char* const kRequestKinds[7];
extern const char* const kGitAuths[3];
extern const char* const kProcessScopes[2];
extern const char* const kRestartModes[3];
extern const char* const kHealthcheckKinds[3];
extern const char* const kConfigParsers[6];

boost::json::array to_array(const std::vector<std::string>& items);
boost::json::object to_object(const std::map<std::string, std::string>& items);

}  // namespace agentproto::detail
