#pragma once
// Small string helpers shared by the library's sources (not part of its interface).
#include <string>
#include <string_view>
#include <vector>

namespace workload {

std::vector<std::string> split(std::string_view text, char separator);
std::string_view trim(std::string_view text);
std::string replace_all(std::string text, std::string_view from, std::string_view to);
// Code points, so that `max:20` counts characters the way PHP's mb_strlen does.
std::size_t utf8_length(std::string_view text);

}  // namespace workload
