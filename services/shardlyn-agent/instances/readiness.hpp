#pragma once
// When a starting instance counts as running: a `done` marker seen in its output (a substring,
// or `regex:<re>`, matched on the line with its ANSI escapes removed) or its health check
// passing (tcp connect, http GET answering 2xx/3xx, or a command exiting 0). A workload with
// neither is running once it runs. ReadinessWatch does both on its own thread, so a reconcile
// pass never waits for a slow probe.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agentproto/messages.hpp"
#include "runtime/driver.hpp"

namespace agent {

// The text of a console line as a person sees it: CSI and OSC escapes removed.
std::string strip_ansi(std::string_view line);

class DoneMatcher {
 public:
  // Throws RuntimeError naming the marker whose regex does not compile ("startup.done[1]: ...").
  explicit DoneMatcher(const std::vector<std::string>& markers);
  bool empty() const { return markers_.empty(); }
  // The marker `line` satisfies, as written in the workload.
  std::optional<std::string> match(std::string_view line) const;

 private:
  struct Marker {
    std::string written;
    std::optional<std::regex> regex;
  };
  std::vector<Marker> markers_;
};

// One run of a health check on the node: empty when it passed, else why not. `host` is where
// tcp and http connect; exec runs in `root`.
std::string probe(const agentproto::HealthcheckSpec& check, const std::string& host, const std::filesystem::path& root);
// "tcp 127.0.0.1:8080", "http GET 127.0.0.1:8080/ready", "exec ./ready.sh"
std::string describe(const agentproto::HealthcheckSpec& check, const std::string& host);

struct Readiness {
  std::int64_t at_unix_ms = 0;
  std::string reason;  // "done line 'Server ready' seen", "health check tcp 127.0.0.1:8080 passed"
};

class ReadinessWatch {
 public:
  ReadinessWatch(RuntimeDriver& driver, InstanceHandle handle, const agentproto::ResolvedWorkload& workload,
                 std::filesystem::path root);
  ~ReadinessWatch();
  ReadinessWatch(const ReadinessWatch&) = delete;
  ReadinessWatch& operator=(const ReadinessWatch&) = delete;
  std::optional<Readiness> ready() const;
  // The last health check failure, for the startup timeout's reason.
  std::string last_failure() const;

 private:
  void run(std::stop_token stop);
  void mark(std::string reason);
  RuntimeDriver& driver_;
  InstanceHandle handle_;
  DoneMatcher done_;
  std::optional<agentproto::HealthcheckSpec> check_;
  std::filesystem::path root_;
  mutable std::mutex mutex_;
  std::optional<Readiness> ready_;
  std::string last_failure_;
  std::jthread thread_;
};

}  // namespace agent
