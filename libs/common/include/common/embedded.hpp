#pragma once
// Files linked into a binary at build time (see cmake/Embed.cmake).
#include <span>
#include <string_view>

namespace common {

struct EmbeddedFile {
  std::string_view name;  // file name without directories
  std::string_view data;
};

}  // namespace common
