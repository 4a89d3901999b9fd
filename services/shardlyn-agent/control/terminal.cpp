#include "control/terminal.hpp"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace agent {

namespace {

std::string shell() {
  if (const char* s = std::getenv("SHELL"); s && *s && ::access(s, X_OK) == 0) return s;
  return ::access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
}

// Length of the UTF-8 sequence a lead byte starts (0 = not a lead byte).
std::size_t sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

}  // namespace

std::string take_utf8(std::string& bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    auto n = sequence_length(static_cast<unsigned char>(bytes[i]));
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (i + n > bytes.size()) break;  // incomplete: wait for the rest
    bool valid = true;
    for (std::size_t k = 1; k < n; ++k) valid &= (static_cast<unsigned char>(bytes[i + k]) & 0xC0) == 0x80;
    if (valid) out.append(bytes, i, n);
    else out += "\xEF\xBF\xBD";
    i += valid ? n : 1;
  }
  bytes.erase(0, i);
  return out;
}

Terminal::Terminal(unsigned cols, unsigned rows, const std::string& home) {
  winsize size{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
  auto program = shell();
  pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::runtime_error(std::string("terminal: no pseudo-terminal: ") + std::strerror(errno));
  if (pid_ == 0) {
    if (::chdir(home.c_str()) != 0 && ::chdir("/") != 0) ::_exit(127);
    ::setenv("TERM", "xterm-256color", 1);
    ::execl(program.c_str(), program.c_str(), "-l", static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

Terminal::~Terminal() {
  ::kill(-pid_, SIGHUP);
  ::kill(pid_, SIGHUP);
  for (int i = 0; i < 50 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(master_);
}

void Terminal::write(std::string_view input) {
  while (!input.empty()) {
    auto n = ::write(master_, input.data(), input.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the shell is gone; read() reports it
    input.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Terminal::resize(unsigned cols, unsigned rows) {
  winsize size{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
  ::ioctl(master_, TIOCSWINSZ, &size);
}

std::optional<std::string> Terminal::read(std::chrono::milliseconds timeout) {
  pollfd p{master_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return std::nullopt;
  char buf[16384];
  auto n = ::read(master_, buf, sizeof buf);
  if (n <= 0) {  // EIO once the last process holding the slave side ended
    ended_ = true;
    return std::nullopt;
  }
  pending_.append(buf, static_cast<std::size_t>(n));
  auto text = take_utf8(pending_);
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace agent
