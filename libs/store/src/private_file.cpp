#include "private_file.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "store/error.hpp"

namespace store::detail {

void make_private(const std::filesystem::path& file) {
  const std::string name = file.string();
  if (name.empty() || name == ":memory:" || name.starts_with("file:")) return;
  const int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) throw Error(SQLITE_CANTOPEN, "open " + name + ": " + std::strerror(errno));
  const int rc = ::fchmod(fd, S_IRUSR | S_IWUSR);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) throw Error(SQLITE_CANTOPEN, "chmod 0600 " + name + ": " + std::strerror(saved));
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    // Missing companions are fine; one we cannot tighten is not ours to fail on.
    (void)::chmod((name + suffix).c_str(), S_IRUSR | S_IWUSR);
  }
}

}  // namespace store::detail
