#pragma once
// A JSON object written straight into response text, for the hot paths (heartbeats, threat
// batches): building a boost::json tree only to serialise and free it cost about a third of a
// threat batch's instructions. Numbers and strings are written as common::write_json writes them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/json_writer.hpp"

namespace manager {

class JsonObjectText {
 public:
  explicit JsonObjectText(std::string& out) : out_(out) { out_ += '{'; }
  JsonObjectText& text(std::string_view key, std::string_view value) {
    common::append_json_string(name(key), value);
    return *this;
  }
  JsonObjectText& text(std::string_view key, const std::string& value) { return text(key, std::string_view(value)); }
  JsonObjectText& text(std::string_view key, const char* value) { return text(key, std::string_view(value)); }
  JsonObjectText& text(std::string_view key, const std::optional<std::string>& value) {
    if (value) return text(key, std::string_view(*value));
    name(key) += "null";
    return *this;
  }
  JsonObjectText& integer(std::string_view key, std::int64_t value) {
    name(key) += std::to_string(value);
    return *this;
  }
  JsonObjectText& strings(std::string_view key, const std::vector<std::string>& items) {
    auto& out = name(key);
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ',';
      common::append_json_string(out, items[i]);
    }
    out += ']';
    return *this;
  }
  JsonObjectText& value(std::string_view key, const boost::json::value& value) {
    common::append_json(name(key), value);
    return *this;
  }
  // Opens a nested object or array under `key`; the caller writes it and closes it.
  std::string& member(std::string_view key) { return name(key); }
  void close() { out_ += '}'; }

 private:
  std::string& name(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    common::append_json_string(out_, key);
    out_ += ':';
    return out_;
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace manager
