#pragma once
// Parsing the elements of a batch body ({iocs: [...]}, {events: [...]}, [reports]).
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace tc {

// Runs parse(object) on element `index` of the list named `list`; validation errors then name
// the element ("events[3].attackType"), and a non-object element is one.
template <class Parse>
auto parse_element(const boost::json::value& v, std::string_view list, std::size_t index, Parse parse) {
  std::string where = std::string(list) + "[" + std::to_string(index) + "]";
  if (!v.is_object()) throw common::ApiError::validation("'" + where + "' must be an object");
  try {
    return parse(v.as_object());
  } catch (const common::ApiError& e) {
    std::string message = e.what();  // "'field' rule"
    if (e.status() != 400 || !message.starts_with('\'')) throw;
    throw common::ApiError(400, "'" + where + "." + message.substr(1), e.code());
  }
}

}  // namespace tc
