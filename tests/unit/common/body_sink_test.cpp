#include "common/body_sink.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch(const char* name) {
  auto dir = fs::temp_directory_path() / ("body-sink-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto p = dir / name;
  fs::remove(p);
  fs::remove(p.string() + ".part");
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("file body sink: pieces land in a .part file, renamed when complete", "[common][body]") {
  auto path = scratch("upload.bin");
  std::uint64_t reported = 0;
  common::FileBodySink sink(path, [&](const fs::path& p, std::uint64_t bytes) {
    reported = bytes;
    CHECK(p == path);
    return common::Response::empty(201);
  });
  int resumed = 0;
  sink.write("hello ", [&] { ++resumed; });
  sink.write(std::string(70000, 'x'), [&] { ++resumed; });
  CHECK(resumed == 2);  // each piece hands control back for the next
  CHECK(fs::exists(path.string() + ".part"));
  CHECK_FALSE(fs::exists(path));
  auto res = sink.finish();
  CHECK(res.status == 201);
  CHECK(reported == 70006);
  CHECK(slurp(path) == "hello " + std::string(70000, 'x'));
  CHECK_FALSE(fs::exists(path.string() + ".part"));
}

TEST_CASE("file body sink: an aborted upload leaves nothing behind", "[common][body]") {
  auto path = scratch("aborted.bin");
  {
    common::FileBodySink sink(path, [](const fs::path&, std::uint64_t) { return common::Response::empty(201); });
    sink.write("partial", [] {});
    sink.abort();
  }
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path.string() + ".part"));
  {
    // Destroyed without finish() (the connection went away): also removed.
    common::FileBodySink sink(path, [](const fs::path&, std::uint64_t) { return common::Response::empty(201); });
    sink.write("partial", [] {});
  }
  CHECK_FALSE(fs::exists(path.string() + ".part"));
}

TEST_CASE("file body sink: a directory that does not exist is ApiError 500", "[common][body]") {
  CHECK_THROWS_AS(common::FileBodySink("/nonexistent-dir/x", [](const fs::path&, std::uint64_t) {
                    return common::Response::empty(201);
                  }),
                  common::ApiError);
}
