#include "common/body_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace common {

FileBodySink::FileBodySink(std::filesystem::path path, Done done)
    : path_(std::move(path)), part_(path_.string() + ".part"), done_(std::move(done)) {
  fd_ = ::open(part_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) throw ApiError(500, std::string("cannot store the upload: ") + std::strerror(errno));
}

FileBodySink::~FileBodySink() {
  if (fd_ >= 0) abort();
}

void FileBodySink::write(std::string_view piece, More more) {
  while (!piece.empty() && error_ == 0) {
    ssize_t n = ::write(fd_, piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = errno;
      break;
    }
    piece.remove_prefix(static_cast<std::size_t>(n));
    bytes_ += static_cast<std::uint64_t>(n);
  }
  more();
}

Response FileBodySink::finish() {
  bool ok = error_ == 0 && ::fsync(fd_) == 0;
  if (!ok && error_ == 0) error_ = errno;
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  if (ok) std::filesystem::rename(part_, path_, ec);
  if (!ok || ec) {
    std::filesystem::remove(part_, ec);
    int e = error_ ? error_ : EIO;
    throw ApiError(e == ENOSPC || e == EDQUOT ? 507 : 500, std::string("cannot store the upload: ") + std::strerror(e));
  }
  return done_(path_, bytes_);
}

void FileBodySink::abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(part_, ec);
}

}  // namespace common
