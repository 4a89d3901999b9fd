#pragma once
// One function per config parser; rewrite_config() picks one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload/spec.hpp"

namespace workload {

std::string rewrite_file_lines(std::string_view text, const std::vector<Replacement>& replace);
std::string rewrite_properties(std::string_view text, const std::vector<Replacement>& replace);
std::string rewrite_ini(std::string_view text, const std::vector<Replacement>& replace);
std::string rewrite_json(std::string_view text, const std::vector<Replacement>& replace, std::string_view path);
std::string rewrite_yaml(std::string_view text, const std::vector<Replacement>& replace, std::string_view path);
std::string rewrite_xml(std::string_view text, const std::vector<Replacement>& replace, std::string_view path);

}  // namespace workload
