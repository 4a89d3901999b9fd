#pragma once
// Reading the shipped eggs and the spec examples from the source tree.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

inline std::filesystem::path workload_source(const std::string& relative) {
  return std::filesystem::path(WORKLOAD_SOURCE_DIR) / relative;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
