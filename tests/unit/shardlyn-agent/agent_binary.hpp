#pragma once
// Where the tests find the agent binary, whose `supervise` mode runs every process instance:
// $SHARDLYN_AGENT_BIN, else bin/shardlyn-agent of the build tree holding this test binary.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace agent_test {

inline std::filesystem::path agent_binary() {
  if (const char* env = std::getenv("SHARDLYN_AGENT_BIN")) return env;
  auto self = std::filesystem::read_symlink("/proc/self/exe");
  for (auto dir = self.parent_path(); dir != dir.root_path(); dir = dir.parent_path())
    if (std::filesystem::exists(dir / "bin" / "shardlyn-agent")) return dir / "bin" / "shardlyn-agent";
  return "shardlyn-agent";
}

// A fresh directory under the system temporary directory, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + "-" +
                                                       std::to_string(std::rand()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace agent_test
