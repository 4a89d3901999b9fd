#pragma once
// Unix stream sockets named by a directory and a file name. The path is reached through
// /proc/self/fd/<dir fd>/<name>, so a deep DATA_DIR never hits the 108-byte sun_path limit.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace agent {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A listening socket at dir/name (an old one is replaced). Throws RuntimeError.
Fd listen_unix(const std::filesystem::path& dir, const std::string& name);
// A connected socket, or an invalid Fd when nobody listens there.
Fd connect_unix(const std::filesystem::path& dir, const std::string& name);

// Reads newline-terminated lines from a socket.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its newline; nullopt on timeout; `closed` set at end of stream.
  std::optional<std::string> next(std::chrono::milliseconds timeout, bool& closed);

 private:
  int fd_;
  std::string buffer_;
};

// Writes everything (blocking socket) or returns false.
bool write_all(int fd, std::string_view data);

}  // namespace agent
