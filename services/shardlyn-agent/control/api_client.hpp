#pragma once
// The agent's HTTP client of the API's internal agent routes (spec: Agent <-> API): register
// with the one-time token, then every call with X-Agent-Token. Blocking; the control loops
// call it from their own threads.
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "agentproto/messages.hpp"

namespace agent {

// A call that did not succeed: `status` 0 when no HTTP answer came (network, timeout).
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }
  // 401/403: the credentials are refused; retrying the same ones will not help.
  bool refused() const { return status_ == 401 || status_ == 403; }

 private:
  int status_;
};

// The node id and agent token the API issued at registration, kept in DATA_DIR (0600).
struct Credentials {
  std::string node_id;
  std::string agent_token;
};
std::optional<Credentials> load_credentials(const std::filesystem::path& file);
void save_credentials(const std::filesystem::path& file, const Credentials& credentials);

class ApiClient {
 public:
  ApiClient(std::string base_url, std::string ca_file);

  void use_token(std::string agent_token);
  agentproto::RegisterResponse register_node(const agentproto::RegisterRequest& request);
  agentproto::HeartbeatResponse heartbeat(const agentproto::Heartbeat& heartbeat);
  // Long-poll: the desired state newer than `since`, or nullopt when the API answered 304
  // (nothing newer within its wait).
  // `cancelled` ends the wait early (ApiError, status 0).
  std::optional<agentproto::DesiredState> desired(std::uint64_t since, std::chrono::seconds wait,
                                                  std::function<bool()> cancelled = nullptr);
  void send_events(const agentproto::EventBatch& events);

  // ws(s)://host:port/v1/agent/tunnel for the API's http(s) base URL.
  std::string tunnel_url() const;
  const std::string& base_url() const { return base_url_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  std::string call(const std::string& method, const std::string& path, const std::string& body,
                   std::chrono::milliseconds timeout, bool authenticated, int* status = nullptr,
                   const std::string& if_none_match = "", std::function<bool()> cancelled = nullptr);
  std::string base_url_, ca_file_;
  mutable std::mutex mutex_;
  std::string token_;
};

}  // namespace agent
