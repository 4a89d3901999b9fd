#pragma once
// JSON text as every response carries it. Like boost::json::serialize, except that numbers are
// written the way people and most JSON writers write them: integers as integers and other
// doubles as the shortest plain decimal that reads back to the same double (12.5, 0.5,
// 304021504), never in exponent form (boost writes 1.25E1, 5E-1, 3.04021504E8). Non-finite
// doubles, which JSON cannot carry, become null.
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace common {

std::string write_json(const boost::json::value& value);
// Appends to `out` (for streamed bodies built piece by piece).
void append_json(std::string& out, const boost::json::value& value);
// One number or string, as write_json writes it.
void append_json_number(std::string& out, double value);
void append_json_string(std::string& out, std::string_view text);

}  // namespace common
