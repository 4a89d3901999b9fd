#include "runtime/stdin_holder.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <list>
#include <vector>

#include "runtime/docker_api.hpp"

namespace agent {

namespace {

// Forwards what writers send to the attach; false once the attach ended.
bool serve(const DockerStream& attach, const Fd& listener, std::list<Fd>& writers) {
  std::vector<pollfd> fds{{attach.socket.get(), POLLIN, 0}, {listener.get(), POLLIN, 0}};
  for (const auto& w : writers) fds.push_back({w.get(), POLLIN, 0});
  if (::poll(fds.data(), fds.size(), -1) < 0) return errno == EINTR;
  char chunk[16384];
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    // A stdin-only attach carries nothing back: data here is noise, end of stream is the end.
    if (::read(attach.socket.get(), chunk, sizeof chunk) <= 0) return false;
  }
  if (fds[1].revents & POLLIN) {
    Fd w(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (w) writers.push_back(std::move(w));
  }
  std::size_t i = 2;
  for (auto it = writers.begin(); it != writers.end(); ++i) {
    bool keep = true;
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(it->get(), chunk, sizeof chunk);
      keep = n > 0 && write_all(attach.socket.get(), std::string_view(chunk, static_cast<std::size_t>(n)));
      if (n > 0 && !keep) return false;  // the engine no longer takes input
    }
    it = keep ? std::next(it) : writers.erase(it);
  }
  return true;
}

}  // namespace

int hold_stdin(const std::string& docker_socket, const std::string& container, const std::filesystem::path& dir) {
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  int code = 0;
  try {
    std::filesystem::create_directories(dir);
    // Listening first: the agent's writer connects at once; what it sends waits in the socket
    // until the attach is up.
    Fd listener = listen_unix(dir, stdin_holder_files::kSocket);
    DockerApi api(docker_socket);
    auto attach = api.attach(container, true);
    std::list<Fd> writers;
    while (serve(attach, listener, writers)) {
    }
  } catch (const std::exception&) {
    code = 1;  // the engine refused the attach or went away
  }
  std::error_code ec;
  std::filesystem::remove(dir / stdin_holder_files::kSocket, ec);
  return code;
}

}  // namespace agent
