#pragma once
// A shell on the node behind a pseudo-terminal, for a terminal channel of the tunnel: its own
// session and process group, ended (SIGHUP, then SIGKILL) when the channel closes.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace agent {

class Terminal {
 public:
  // Starts $SHELL (else /bin/bash, else /bin/sh) as a login shell in `home`. Throws
  // std::runtime_error when no PTY can be had.
  Terminal(unsigned cols, unsigned rows, const std::string& home);
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  void write(std::string_view input);
  void resize(unsigned cols, unsigned rows);
  // Output as text (whole UTF-8 sequences; invalid bytes become U+FFFD), nullopt when nothing
  // came within `timeout`; ended() once the shell is gone.
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  bool ended() const { return ended_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  bool ended_ = false;
  std::string pending_;  // an incomplete UTF-8 sequence held back for the next read
};

// Splits `bytes` into valid UTF-8 text and a trailing incomplete sequence (left in `bytes`).
std::string take_utf8(std::string& bytes);

}  // namespace agent
