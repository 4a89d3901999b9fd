#pragma once
// Rewriting an instance's configuration files before it starts, as eggs' `config.files` ask:
// each parser finds `match` in its own terms and sets the value, leaving the rest of the file
// as it was (comments, order, other keys).
//   file        every line that starts with `match` becomes `value`
//   properties  key=value (also `key: value`); a missing key is appended
//   ini         `key` or `section.key`; a missing key is added to its section
//   json, yaml  dotted paths, `*` for every member or item; missing objects are created
//   xml         dotted element path; the element's text is replaced
// `if_value` limits a replacement to where the current value equals it.
#include <string>
#include <string_view>
#include <vector>

#include "workload/spec.hpp"

namespace workload {

// Throws SpecError{path, ...} when a json/yaml/xml file cannot be parsed (it is left alone).
std::string rewrite_config(ConfigParser parser, std::string_view text, const std::vector<Replacement>& replace,
                           std::string_view path = "file");

}  // namespace workload
