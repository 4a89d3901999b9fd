#pragma once
// Ready-made sinks for streamed request bodies (Route::body_sink).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "common/http.hpp"

namespace common {

// Writes the body to `path` as it arrives: into "<path>.part", renamed to `path` once the
// body is complete (so a half upload is never mistaken for a file), removed on abort. The
// writes go to the page cache from the I/O thread, one piece (64 KiB) at a time.
class FileBodySink : public BodySink {
 public:
  using Done = std::function<Response(const std::filesystem::path& path, std::uint64_t bytes)>;
  // Throws ApiError 500 when the file cannot be created.
  FileBodySink(std::filesystem::path path, Done done);
  ~FileBodySink() override;

  void write(std::string_view piece, More more) override;
  Response finish() override;  // ApiError 507 when a write failed (disk full)
  void abort() override;

 private:
  std::filesystem::path path_;
  std::filesystem::path part_;
  Done done_;
  int fd_ = -1;
  std::uint64_t bytes_ = 0;
  int error_ = 0;  // errno of the first failed write
};

}  // namespace common
