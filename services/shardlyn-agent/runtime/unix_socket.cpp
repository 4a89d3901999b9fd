#include "runtime/unix_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/driver.hpp"

namespace agent {

namespace {

sockaddr_un address_in(int dir_fd, const std::string& name, socklen_t& length) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  auto path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  if (path.size() >= sizeof addr.sun_path) throw RuntimeError("socket name too long: " + name);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return addr;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Fd listen_unix(const std::filesystem::path& dir, const std::string& name) {
  Fd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) throw RuntimeError("cannot open " + dir.string() + ": " + std::strerror(errno));
  ::unlinkat(dir_fd.get(), name.c_str(), 0);
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  socklen_t length = 0;
  auto addr = address_in(dir_fd.get(), name, length);
  if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), length) != 0 || ::listen(sock.get(), 16) != 0)
    throw RuntimeError("cannot listen on " + (dir / name).string() + ": " + std::strerror(errno));
  ::fchmodat(dir_fd.get(), name.c_str(), 0600, 0);
  return sock;
}

Fd connect_unix(const std::filesystem::path& dir, const std::string& name) {
  Fd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return {};
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  socklen_t length = 0;
  auto addr = address_in(dir_fd.get(), name, length);
  if (!sock || ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), length) != 0) return {};
  return sock;
}

std::optional<std::string> LineReader::next(std::chrono::milliseconds timeout, bool& closed) {
  closed = false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return std::nullopt;
    char chunk[8192];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed = true;
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace agent
