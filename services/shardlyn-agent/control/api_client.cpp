#include "control/api_client.hpp"

#include <boost/json.hpp>

#include "agentproto/json.hpp"
#include "common/files.hpp"
#include "common/http_client.hpp"

namespace agent {

namespace {

constexpr std::chrono::milliseconds kCallTimeout{10000};
constexpr std::size_t kMaxDesiredBytes = 16 << 20;

// The API's error text ({"error": "..."}), or the start of the body.
std::string error_text(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object())
    if (auto* e = v.as_object().if_contains("error"); e && e->is_string()) return std::string(e->as_string());
  return body.substr(0, 200);
}

}  // namespace

std::optional<Credentials> load_credentials(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return std::nullopt;
  auto v = boost::json::parse(common::read_file(file));
  const auto& o = v.as_object();
  return Credentials{std::string(o.at("node_id").as_string()), std::string(o.at("agent_token").as_string())};
}

void save_credentials(const std::filesystem::path& file, const Credentials& c) {
  boost::json::object o{{"node_id", c.node_id}, {"agent_token", c.agent_token}};
  common::write_file_atomic(file, boost::json::serialize(o), 0600);
}

ApiClient::ApiClient(std::string base_url, std::string ca_file)
    : base_url_(std::move(base_url)), ca_file_(std::move(ca_file)) {}

void ApiClient::use_token(std::string agent_token) {
  std::lock_guard lock(mutex_);
  token_ = std::move(agent_token);
}

std::string ApiClient::call(const std::string& method, const std::string& path, const std::string& body,
                            std::chrono::milliseconds timeout, bool authenticated, int* status,
                            const std::string& if_none_match, std::function<bool()> cancelled) {
  common::OutboundRequest req;
  req.method = method;
  req.url = base_url_ + path;
  req.body = body;
  req.timeout = timeout;
  req.ca_file = ca_file_;
  req.max_response_bytes = kMaxDesiredBytes;
  req.cancelled = std::move(cancelled);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (!if_none_match.empty()) req.headers.emplace_back("If-None-Match", if_none_match);
  if (authenticated) {
    std::lock_guard lock(mutex_);
    req.headers.emplace_back("X-Agent-Token", token_);
  }
  auto resp = common::send(req);
  if (resp.status == 0) throw ApiError(0, method + " " + path + ": " + resp.error);
  if (status) *status = resp.status;
  if (resp.status == 304) return "";
  if (!resp.ok())
    throw ApiError(resp.status, method + " " + path + ": " + std::to_string(resp.status) + " " + error_text(resp.body));
  return resp.body;
}

agentproto::RegisterResponse ApiClient::register_node(const agentproto::RegisterRequest& request) {
  auto body = call("POST", "/v1/agent/register", agentproto::to_text(request), kCallTimeout, false);
  return agentproto::from_text<agentproto::RegisterResponse>(body, "registered");
}

agentproto::HeartbeatResponse ApiClient::heartbeat(const agentproto::Heartbeat& heartbeat) {
  auto body = call("POST", "/v1/agent/heartbeat", agentproto::to_text(heartbeat), kCallTimeout, true);
  return agentproto::from_text<agentproto::HeartbeatResponse>(body, "heartbeat_response");
}

std::optional<agentproto::DesiredState> ApiClient::desired(std::uint64_t since, std::chrono::seconds wait,
                                                           std::function<bool()> cancelled) {
  int status = 0;
  auto body = call("GET", "/v1/agent/desired?since=" + std::to_string(since), "", wait + kCallTimeout, true, &status,
                   agentproto::desired_etag(since), std::move(cancelled));
  if (status == 304) return std::nullopt;
  return agentproto::from_text<agentproto::DesiredState>(body, "desired");
}

void ApiClient::send_events(const agentproto::EventBatch& events) {
  call("POST", "/v1/agent/events", agentproto::to_text(events), kCallTimeout, true);
}

std::string ApiClient::tunnel_url() const {
  auto scheme_end = base_url_.find("://");
  auto scheme = base_url_.substr(0, scheme_end) == "https" ? "wss" : "ws";
  return scheme + base_url_.substr(scheme_end) + "/v1/agent/tunnel";
}

}  // namespace agent
