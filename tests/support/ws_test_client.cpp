// Drives common::WebSocketClient for the integration tests: connects (and reconnects) to
// --url, sends --send on every open, and prints one line per event on stdout:
//   open <connects>        message <text>        closed <code> <reason>
// Runs until SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>

#include "common/websocket_client.hpp"

namespace {

std::mutex out_mutex;

void print(const std::string& line) {
  std::lock_guard lock(out_mutex);
  std::cout << line << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  common::WebSocketClientOptions options;
  options.backoff_initial = std::chrono::milliseconds(100);
  options.backoff_max = std::chrono::milliseconds(1000);
  std::string greeting;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--url") {
      options.url = value;
    } else if (flag == "--ca-file") {
      options.ca_file = value;
    } else if (flag == "--header") {
      auto colon = value.find(':');
      options.headers.emplace_back(value.substr(0, colon), colon == std::string::npos ? "" : value.substr(colon + 1));
    } else if (flag == "--send") {
      greeting = value;
    } else {
      std::cerr << "usage: ws-test-client --url ws://... [--ca-file pem] [--header Name:value] [--send text]\n";
      return 2;
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the client's thread starts

  common::WebSocketClient* self = nullptr;
  common::WebSocketClient client(
      options, {.open =
                    [&] {
                      print("open " + std::to_string(self->connects()));
                      if (!greeting.empty()) self->send(greeting);
                    },
                .message = [](std::string_view m, bool) { print("message " + std::string(m)); },
                .closed = [](std::uint16_t code,
                             const std::string& reason) { print("closed " + std::to_string(code) + " " + reason); }});
  self = &client;
  try {
    client.start();
  } catch (const std::exception& e) {
    std::cerr << "ws-test-client: " << e.what() << "\n";
    return 2;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  client.stop();
  return 0;
}
