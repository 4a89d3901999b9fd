#include "instances/config_files.hpp"

#include <sys/stat.h>

#include "common/files.hpp"
#include "runtime/driver.hpp"
#include "workload/config_files.hpp"

namespace agent {

namespace {

// The file's place under `root`, refusing what could leave it.
std::filesystem::path confined(const std::filesystem::path& root, const std::string& relative) {
  std::filesystem::path p(relative);
  if (relative.empty() || p.is_absolute()) throw RuntimeError("must be a path relative to the instance root");
  auto at = root;
  for (const auto& part : p) {
    if (part == "..") throw RuntimeError("must stay inside the instance root");
    if (part == "." || part.empty()) continue;
    at /= part;
    struct stat st{};
    if (::lstat(at.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) throw RuntimeError("is reached through a symbolic link");
  }
  return at;
}

}  // namespace

void write_config_files(const std::filesystem::path& root, const std::vector<agentproto::ConfigFileSpec>& files) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    auto name = "config_files[" + std::to_string(i) + "] " + f.path + ": ";
    try {
      auto parser = workload::config_parser_from(f.parser);
      if (!parser) throw RuntimeError("unknown parser " + f.parser);
      auto path = confined(root, f.path);
      std::string text;
      if (std::filesystem::exists(path)) text = common::read_file(path);
      std::vector<workload::Replacement> replace;
      for (const auto& r : f.replace) replace.push_back({r.match, r.if_value, r.value});
      auto written = workload::rewrite_config(*parser, text, replace, f.path);
      std::filesystem::create_directories(path.parent_path());
      common::write_file_atomic(path, written, 0644);
    } catch (const std::exception& e) {  // ours, a parser's SpecError, a file system error
      throw RuntimeError(name + e.what());
    }
  }
}

}  // namespace agent
