#include "nodes/terminal.hpp"

#include <optional>
#include <string>

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "agentproto/json.hpp"
#include "common/input.hpp"
#include "common/log.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxInputBytes = 64 * 1024;

// What a client frame holds, or nullopt when it is not {"event": "<name>", "args": [...]}.
struct ClientFrame {
  std::string event;
  json::array args;
};

std::optional<ClientFrame> client_frame(std::string_view text) {
  json::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* event = value.as_object().if_contains("event");
  const auto* args = value.as_object().if_contains("args");
  if (!event || !event->is_string() || (args && !args->is_array())) return std::nullopt;
  return ClientFrame{std::string(event->as_string()), args ? args->as_array() : json::array{}};
}

bool positive_below(const json::value& v, std::int64_t limit) {
  return v.is_int64() && v.as_int64() > 0 && v.as_int64() < limit;
}

}  // namespace

class TerminalSocket final : public common::WebSocketHandler,
                             public ChannelSink,
                             public std::enable_shared_from_this<TerminalSocket> {
 public:
  TerminalSocket(NodeTerminals& terminals, const common::Request& upgrade, unsigned cols, unsigned rows)
      : terminals_(terminals), node_id_(upgrade.param("id")), cols_(cols), rows_(rows) {
    upgrade_ = UpgradeGuard(upgrade);
    if (const auto* c = std::any_cast<Caller>(&upgrade.principal)) {
      terminals_.agents_.online_node(*c, node_id_);  // 404 / 409 answered at the upgrade
      caller_ = *c;
    }
  }

  void on_open(std::shared_ptr<common::WebSocketConnection> connection) override {
    {
      std::lock_guard lock(mutex_);
      connection_ = std::move(connection);
    }
    if (caller_) start();
  }

  void on_message(std::string_view text, bool binary) override {
    auto frame = binary ? std::nullopt : client_frame(text);
    if (!frame) return refuse("", "bad_frame", "a frame is a JSON object {\"event\": ..., \"args\": [...]}");
    if (frame->event == "auth") return authenticate(*frame);
    if (!channel()) return refuse(frame->event, "not_authenticated", "send {\"event\":\"auth\",\"args\":[\"<token>\"]} first");
    if (frame->event == "terminal input" && frame->args.size() == 1 && frame->args[0].is_string() &&
        frame->args[0].as_string().size() <= kMaxInputBytes) {
      input_bytes_ += frame->args[0].as_string().size();
      return forward(*frame);
    }
    if (frame->event == "terminal resize" && frame->args.size() == 2 && positive_below(frame->args[0], 10000) &&
        positive_below(frame->args[1], 10000))
      return forward(*frame);
    refuse(frame->event, "bad_frame",
           "a terminal takes 'terminal input' [text of at most 64 KiB] and 'terminal resize' [cols, rows]");
  }

  void on_close(std::uint16_t, std::string_view) override {
    {
      std::lock_guard lock(mutex_);
      connection_.reset();
    }
    if (auto c = channel()) c->close("the viewer left");
    else ended("the viewer left before the session started");
  }

  // ChannelSink: from the tunnel.
  void on_data(const agentproto::ChannelData& data) override {
    if (data.event == "terminal output" && data.args.size() == 1 && data.args[0].is_string()) {
      output_bytes_ += data.args[0].as_string().size();
      emit("terminal output", {data.args[0]});
      // Output may come before start() kept the channel: its credit is given back with the next.
      owed_ += agentproto::to_text(agentproto::TunnelFrame{data}).size();
      if (auto c = channel()) c->credit(owed_.exchange(0));
    } else if (data.event == "error") {
      emit("error", data.args);
    }
  }
  void on_close(const std::string& reason) override {
    {
      std::lock_guard lock(mutex_);
      channel_.reset();  // the channel holds this sink: the cycle ends with the channel
    }
    emit("terminal closed", {json::string(reason)});
    ended(reason);
    close_soon(common::ws_close::normal, "terminal closed");
  }

  // NodeTerminals::tick: the auth deadline, and a close once the frames before it went out.
  void tick(std::chrono::steady_clock::time_point now) {
    std::unique_lock lock(mutex_);
    if (!connection_) return;
    if (!caller_ && !closing_ && now - opened_at_ > std::chrono::seconds(terminals_.limits_.auth_timeout_s)) {
      lock.unlock();
      refuse("auth", "not_authenticated", "no auth frame in time");
      return close_soon(common::ws_close::policy, "not authenticated");
    }
    if (closing_ && ++closing_ticks_ > 1) connection_->close(closing_->first, closing_->second);
  }

 private:
  std::shared_ptr<TunnelChannel> channel() {
    std::lock_guard lock(mutex_);
    return channel_;
  }

  void authenticate(const ClientFrame& f) {
    if (f.args.size() != 1 || !f.args[0].is_string() || f.args[0].as_string().empty())
      return refuse(f.event, "bad_frame", "auth takes one argument, the token");
    {
      std::lock_guard lock(mutex_);
      if (caller_) return refuse(f.event, "already_authenticated", "this session is authenticated");
    }
    try {
      auto c = terminals_.access_.authenticate_token(upgrade_, std::string_view(f.args[0].as_string()));
      terminals_.agents_.online_node(c, node_id_);
      std::lock_guard lock(mutex_);
      caller_ = std::move(c);
    } catch (const common::ApiError& e) {
      refuse(f.event, e.code(), e.what());
      if (e.status() == 404 || e.status() == 409) close_soon(common::ws_close::policy, e.what());
      return;
    }
    start();
  }

  // Records the session's start, then opens the PTY on the node (so the end, however soon it
  // comes, is always recorded after the start).
  void start() {
    agentproto::OpenChannel open;
    open.kind = agentproto::ChannelKind::Terminal;
    open.cols = cols_;
    open.rows = rows_;
    open.window_bytes = terminals_.limits_.window_bytes;
    try {
      session_id_ = security::uuid_v4();
      started_at_ = store::unix_now();
      record("node.terminal.opened", {{"cols", cols_}, {"rows", rows_}});
    } catch (const TunnelError& e) {
      session_id_.clear();  // nothing started
      refuse("auth", e.code(), e.what());
      return close_soon(common::ws_close::internal_error, e.what());
    }
    try {
      auto c = terminals_.agents_.hub().open_channel(node_id_, open, shared_from_this());
      std::lock_guard lock(mutex_);
      if (!c->closed()) channel_ = std::move(c);  // a channel the agent closed at once is not kept
    } catch (const TunnelError& e) {
      ended(e.what());
      refuse("auth", e.code(), e.what());
      return close_soon(common::ws_close::policy, e.what());
    }
    emit("auth success", {});
  }

  void forward(const ClientFrame& f) {
    if (auto c = channel(); !c || !c->send({0, f.event, f.args, {}}))
      refuse(f.event, "tunnel_closed", "the terminal's channel is closed");
  }

  // The session's end, recorded once (only a session that started has one).
  void ended(const std::string& reason) {
    if (session_id_.empty() || ended_.exchange(true)) return;
    try {
      record("node.terminal.closed", {{"reason", reason},
                                      {"duration_s", store::unix_now() - started_at_},
                                      {"input_bytes", input_bytes_.load()},
                                      {"output_bytes", output_bytes_.load()}});
    } catch (const TunnelError&) {
      // logged by record(); the session is over either way
    }
  }

  void record(const char* action, json::object detail) {
    detail["node_id"] = node_id_;
    detail["session_id"] = session_id_;
    try {
      terminals_.db_.write(
          [&](store::Connection& db) { audit::record(db, action, caller_->actor(), caller_->org_id, {}, detail); });
    } catch (const std::exception& e) {
      common::log::error("terminal session not audited", {{"action", action}, {"node", node_id_}, {"error", e.what()}});
      throw TunnelError("audit_failed", "the session could not be recorded");
    }
    common::log::info(action, {{"node", node_id_}, {"session", session_id_}, {"user", caller_->user_id}});
  }

  void emit(std::string_view event, json::array args) {
    std::shared_ptr<common::WebSocketConnection> connection;
    {
      std::lock_guard lock(mutex_);
      connection = connection_;
    }
    if (connection) connection->send(agentproto::write_value(json::object{{"event", event}, {"args", std::move(args)}}));
  }
  void refuse(std::string_view event, std::string_view code, std::string_view message) {
    emit("error", {json::object{{"event", event}, {"code", code}, {"message", message}}});
  }
  void close_soon(std::uint16_t code, std::string reason) {
    std::lock_guard lock(mutex_);
    if (!closing_) closing_.emplace(code, std::move(reason));
  }

  NodeTerminals& terminals_;
  UpgradeGuard upgrade_;  // what a first-frame credential is checked against
  std::string node_id_;
  unsigned cols_, rows_;
  std::mutex mutex_;
  std::shared_ptr<common::WebSocketConnection> connection_;
  std::shared_ptr<TunnelChannel> channel_;
  std::optional<Caller> caller_;
  std::string session_id_;
  std::int64_t started_at_ = 0;
  std::atomic<std::uint64_t> input_bytes_{0}, output_bytes_{0}, owed_{0};
  std::atomic<bool> ended_{false};
  std::optional<std::pair<std::uint16_t, std::string>> closing_;
  int closing_ticks_ = 0;
  std::chrono::steady_clock::time_point opened_at_ = std::chrono::steady_clock::now();
};

std::shared_ptr<common::WebSocketHandler> NodeTerminals::open(common::Request& upgrade) {
  auto cols = common::input::query_integer(upgrade, "cols", 1, 9999).value_or(limits_.default_cols);
  auto rows = common::input::query_integer(upgrade, "rows", 1, 9999).value_or(limits_.default_rows);
  auto socket = std::make_shared<TerminalSocket>(*this, upgrade, static_cast<unsigned>(cols), static_cast<unsigned>(rows));
  std::lock_guard lock(mutex_);
  std::erase_if(sockets_, [](const auto& s) { return s.expired(); });
  sockets_.push_back(socket);
  return socket;
}

void NodeTerminals::tick() {
  std::vector<std::shared_ptr<TerminalSocket>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : sockets_)
      if (auto p = s.lock()) live.push_back(std::move(p));
  }
  auto now = std::chrono::steady_clock::now();
  for (const auto& s : live) s->tick(now);
}

}  // namespace shardlyn
