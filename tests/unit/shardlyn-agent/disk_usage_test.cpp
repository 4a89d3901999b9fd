// Disk usage of instance roots: allocated blocks, symlinks not followed, roots measured per
// instance and a vanished root gone from the measurements.
#include "instances/disk_usage.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "../store/temp_dir.hpp"

using namespace agent;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, std::size_t bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  std::string chunk(4096, 'x');
  for (std::size_t done = 0; done < bytes; done += chunk.size()) out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
}

}  // namespace

TEST_CASE("each instance root's allocated bytes, symlinks not followed") {
  store_test::TempDir dir;
  auto instances = dir / "instances";
  write(instances / "a" / "world" / "region.dat", 1 << 20);
  write(instances / "b" / "small.txt", 4096);
  write(dir / "outside" / "big.bin", 4 << 20);
  fs::create_symlink(dir / "outside", instances / "b" / "escape");  // not counted
  InstanceDiskUsage usage(instances, std::chrono::hours(1));
  usage.measure();
  auto a = usage.bytes("a"), b = usage.bytes("b");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a >= (1u << 20));
  CHECK(*a < (1u << 20) + 64 * 1024);
  CHECK(*b >= 4096);
  CHECK(*b < (1u << 20));  // the 4 MiB behind the link are not the instance's
  CHECK_FALSE(usage.bytes("c"));
  fs::remove_all(instances / "a");
  usage.measure();
  CHECK_FALSE(usage.bytes("a"));
}
