#include "runtime/detached.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/driver.hpp"

namespace agent {

void spawn_detached(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t middle = ::fork();
  if (middle < 0) throw RuntimeError(std::string("fork failed: ") + std::strerror(errno));
  if (middle == 0) {  // only async-signal-safe calls until exec: the agent has threads
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(devnull);
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace agent
