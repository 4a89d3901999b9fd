#include "tunnel/console_socket.hpp"

#include <mutex>
#include <optional>

#include <boost/json.hpp>

#include "agentproto/json.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

// The codes of refused frames (the `code` of an `error` frame) that are not an ApiError's.
constexpr const char* kBadFrame = "bad_frame";
constexpr const char* kUnknownEvent = "unknown_event";
constexpr const char* kNotAuthenticated = "not_authenticated";
constexpr const char* kTokenExpired = "token_expired";
constexpr const char* kReadOnly = "read_only";
constexpr const char* kNoStats = "no_stats";

// The key a caller's slots are counted under.
std::string slot_key(const Caller& c) { return c.token_id.empty() ? "user:" + c.user_id : "token:" + c.token_id; }

common::ApiError too_many_viewers() {
  return {429, "this caller holds the most console and logs WebSockets allowed (SHARDLYN_CONSOLE_MAX_PER_CALLER)",
          common::codes::kRateLimited};
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::optional<PowerAction> power_action(std::string_view name) {
  if (name == "start") return PowerAction::Start;
  if (name == "stop") return PowerAction::Stop;
  if (name == "restart") return PowerAction::Restart;
  if (name == "kill") return PowerAction::Kill;
  return std::nullopt;
}

json::object stats_object(const InstanceRef& r) {
  json::object out{{"instance_id", r.instance_id},
                   {"state", r.state},
                   {"reported_at", r.stats_at ? json::value(common::rfc3339_from_unix(r.stats_at)) : nullptr}};
  if (!r.stats) {
    out["stats"] = nullptr;
    return out;
  }
  out["stats"] = json::value_from(*r.stats);
  return out;
}

// A frame a client sent: {"event": "...", "args": [...]}.
struct Frame {
  std::string event;
  json::array args;
};

// The frame, or why it is not one (the message of the `bad_frame` error).
std::variant<Frame, std::string> read_frame(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::string("a frame is a JSON object {\"event\": ..., \"args\": [...]}");
  const auto& o = value.as_object();
  const auto* event = o.if_contains("event");
  if (!event || !event->is_string() || event->as_string().empty()) return std::string("event: a non-empty string is required");
  Frame f{std::string(event->as_string()), {}};
  if (const auto* args = o.if_contains("args")) {
    if (!args->is_array()) return std::string("args: must be an array");
    f.args = args->as_array();
  }
  return f;
}

class ConsoleSocket final : public common::WebSocketHandler,
                            public ConsoleViewer,
                            public std::enable_shared_from_this<ConsoleSocket> {
 public:
  ConsoleSocket(ConsoleArea& area, const common::Request& upgrade, ConsoleMode mode)
      : area_(area),
        mode_(mode),
        throttle_(area.limits.lines_per_s, area.limits.burst),
        opened_at_(std::chrono::steady_clock::now()) {
    upgrade_ = UpgradeGuard(upgrade);
    instance_id_ = std::string(upgrade.param("id"));
    if (const auto* c = std::any_cast<Caller>(&upgrade.principal)) {
      instance_ = find_for(*c);
      if (!area_.slots.take(slot_key(*c))) throw too_many_viewers();
      slot_ = slot_key(*c);
      caller_ = *c;
    }
  }
  // Not on_close: a handler the server drops before it opens (connection caps) gets no on_close.
  ~ConsoleSocket() override {
    if (!slot_.empty()) area_.slots.give_back(slot_);
  }

  void on_open(std::shared_ptr<common::WebSocketConnection> connection) override {
    {
      std::lock_guard lock(mutex_);
      connection_ = std::move(connection);
    }
    if (caller_) return admitted(true);
    area_.feeds.remind(shared_from_this());
  }

  void on_message(std::string_view text, bool binary) override {
    auto frame = read_frame(binary ? std::string_view{} : text);
    if (auto* why = std::get_if<std::string>(&frame)) return refuse("", kBadFrame, *why);
    dispatch(std::get<Frame>(frame));
  }

  void on_close(std::uint16_t, std::string_view) override {
    area_.feeds.unwatch(instance_id_, this);
    std::lock_guard lock(mutex_);
    connection_.reset();
  }

  // ConsoleViewer
  void line(const ConsoleLine& l, bool install) override {
    std::unique_lock lock(mutex_);
    if (!caller_ || expired_ || !connection_) return;
    auto verdict = throttle_.admit(steady_seconds());
    if (verdict == LineThrottle::Verdict::Send && connection_->queued_bytes() > area_.limits.queue_bytes)
      verdict = behind_ ? LineThrottle::Verdict::Drop : LineThrottle::Verdict::DropWithNotice;
    behind_ = verdict != LineThrottle::Verdict::Send;
    lock.unlock();
    if (verdict == LineThrottle::Verdict::Send)
      emit(install ? "install output" : "console output", {json::string(l.text)}, l.seq);
    else if (verdict == LineThrottle::Verdict::DropWithNotice)
      emit("throttled", {json::string(install ? "install output" : "console output")});
  }
  void status(const std::string& state) override {
    if (live()) emit("status", {json::string(state)});
  }
  void stats(const InstanceRef& instance) override {
    if (live()) emit("stats", {stats_object(instance)});
  }
  void daemon_message(const std::string& text) override {
    if (live()) emit("daemon message", {json::string(text)});
  }
  void refused(const std::string& event, const std::string& code, const std::string& message) override {
    // The agent's refusals concern commands: only viewers that may send them hear of them.
    if (live() && may(kConsolePermission)) refuse(event, code, message);
  }
  void tick(std::int64_t now) override;
  void gone() override {
    if (!live()) return;
    emit("daemon message", {json::string("the instance was deleted")});
    close_soon("instance deleted");
    area_.feeds.remind(shared_from_this());  // no feed ticks it any more
  }

 private:
  static constexpr const char* kConsolePermission = "instances.console";
  static constexpr const char* kPowerPermission = "instances.power";

  std::optional<InstanceRef> find_for(const Caller& c) const {
    auto found = area_.instances.find(c.org_id, instance_id_);
    if (!found) throw common::ApiError::not_found("instance not found");
    return found;
  }

  std::size_t queued() {
    std::lock_guard lock(mutex_);
    return connection_ ? connection_->queued_bytes() : 0;
  }
  bool live() {
    std::lock_guard lock(mutex_);
    return caller_ && !expired_ && connection_;
  }
  bool may(const char* permission) {
    std::lock_guard lock(mutex_);
    return caller_ && caller_->permissions->count(permission);
  }

  void emit(std::string_view event, json::array args, std::optional<std::uint64_t> seq = {}) {
    json::object frame{{"event", event}, {"args", std::move(args)}};
    if (seq) frame["seq"] = *seq;
    std::shared_ptr<common::WebSocketConnection> connection;
    {
      std::lock_guard lock(mutex_);
      connection = connection_;
    }
    if (connection) connection->send(agentproto::write_value(frame));
  }
  void refuse(const std::string& event, const std::string& code, const std::string& message) {
    emit("error", {json::object{{"event", event}, {"code", code}, {"message", message}}});
  }

  // Closed at the next tick, once the frames before it went out.
  void close_soon(std::string reason) {
    std::lock_guard lock(mutex_);
    closing_reason_ = std::move(reason);
  }

  void dispatch(const Frame& f);
  void authenticate(const Frame& f);
  void admitted(bool first);
  void send_command(const Frame& f);
  void set_state(const Frame& f);
  void send_logs(const Frame& f);
  void send_stats();

  ConsoleArea& area_;
  ConsoleMode mode_;
  UpgradeGuard upgrade_;  // what a first-frame credential is checked against
  std::string instance_id_;
  std::mutex mutex_;
  std::shared_ptr<common::WebSocketConnection> connection_;
  std::optional<Caller> caller_;
  std::optional<InstanceRef> instance_;
  bool watching_ = false, expiring_told_ = false, expired_ = false, behind_ = false;
  LineThrottle throttle_;
  std::chrono::steady_clock::time_point opened_at_;
  std::string closing_reason_;
  std::string slot_;  // the caller's slot this socket holds ("" before authentication)
};

void ConsoleSocket::dispatch(const Frame& f) {
  if (f.event == "auth") return authenticate(f);
  bool authenticated = false, expired = false;
  {
    std::lock_guard lock(mutex_);
    authenticated = caller_.has_value();
    expired = expired_;
  }
  if (!authenticated) return refuse(f.event, kNotAuthenticated, "send {\"event\":\"auth\",\"args\":[\"<token>\"]} first");
  if (expired) return refuse(f.event, kTokenExpired, "the token expired: send a new one with an auth frame");
  if (f.event == "send command") return send_command(f);
  if (f.event == "set state") return set_state(f);
  if (f.event == "send logs") return send_logs(f);
  if (f.event == "send stats") return send_stats();
  refuse(f.event, kUnknownEvent, "unknown event '" + f.event + "'");
}

void ConsoleSocket::authenticate(const Frame& f) {
  if (f.args.size() != 1 || !f.args[0].is_string() || f.args[0].as_string().empty())
    return refuse(f.event, kBadFrame, "auth takes one argument, the token");
  Caller c;
  std::optional<InstanceRef> instance;
  try {
    c = area_.access.authenticate_token(upgrade_, std::string_view(f.args[0].as_string()));
    instance = find_for(c);
  } catch (const common::ApiError& e) {
    refuse(f.event, e.code(), e.what());
    if (e.status() == 404) close_soon("instance not found");
    return;
  }
  bool first = false;
  {
    std::unique_lock lock(mutex_);
    if (slot_.empty()) {
      if (!area_.slots.take(slot_key(c))) {
        auto e = too_many_viewers();
        closing_reason_ = "too many console connections";
        lock.unlock();
        return refuse(f.event, e.code(), e.what());
      }
      slot_ = slot_key(c);
    }
    first = !watching_;  // a renewed token keeps the subscription
    caller_ = std::move(c);
    instance_ = std::move(instance);
    expiring_told_ = expired_ = false;
  }
  admitted(first);
}

void ConsoleSocket::admitted(bool first) {
  emit("auth success", {});
  std::optional<InstanceRef> instance;
  {
    std::lock_guard lock(mutex_);
    instance = instance_;
    watching_ = true;
  }
  emit("status", {json::string(instance->state)});
  if (first) area_.feeds.watch(*instance, shared_from_this());
}

void ConsoleSocket::send_command(const Frame& f) {
  if (mode_ == ConsoleMode::Logs) return refuse(f.event, kReadOnly, "the logs WebSocket is read-only");
  if (!may(kConsolePermission)) return refuse(f.event, "forbidden", "missing permission instances.console");
  if (f.args.size() != 1 || !f.args[0].is_string()) return refuse(f.event, kBadFrame, "send command takes one string");
  auto line = std::string(f.args[0].as_string());
  if (line.find_first_of("\r\n") != std::string::npos || line.size() > 4096)
    return refuse(f.event, kBadFrame, "a command is one line of at most 4096 bytes");
  auto fresh = area_.instances.find(instance_->org_id, instance_id_);
  if (!fresh) return refuse(f.event, "not_found", "instance not found");
  try {
    area_.feeds.send_command(*fresh, line);
  } catch (const TunnelError& e) {
    refuse(f.event, e.code(), e.what());
  }
}

void ConsoleSocket::set_state(const Frame& f) {
  if (mode_ == ConsoleMode::Logs) return refuse(f.event, kReadOnly, "the logs WebSocket is read-only");
  if (!may(kPowerPermission)) return refuse(f.event, "forbidden", "missing permission instances.power");
  auto action = f.args.size() == 1 && f.args[0].is_string() ? power_action(f.args[0].as_string()) : std::nullopt;
  if (!action) return refuse(f.event, kBadFrame, "set state takes one of start, stop, restart, kill");
  Caller c;
  {
    std::lock_guard lock(mutex_);
    c = *caller_;
  }
  try {
    auto audited = c.actor();
    area_.instances.power(c.org_id, instance_id_, *action,
                          c.token_id.empty() ? "user:" + c.user_id : "token:" + c.token_id, &audited);
  } catch (const common::ApiError& e) {
    refuse(f.event, e.code(), e.what());
  }
}

void ConsoleSocket::send_logs(const Frame& f) {
  std::uint64_t since = 0;
  if (f.args.size() > 1 || (f.args.size() == 1 && !(f.args[0].is_uint64() || (f.args[0].is_int64() && f.args[0].as_int64() >= 0))))
    return refuse(f.event, kBadFrame, "send logs takes an optional seq, a non-negative integer");
  if (f.args.size() == 1) since = f.args[0].is_uint64() ? f.args[0].as_uint64() : static_cast<std::uint64_t>(f.args[0].as_int64());
  auto replay = area_.feeds.since(instance_id_, since);
  if (replay.missed)
    emit("daemon message", {json::string(std::to_string(replay.missed) + " lines after seq " + std::to_string(since) +
                                         " are no longer kept")});
  std::uint64_t sent = since;
  for (const auto& l : replay.lines) {
    if (queued() > area_.limits.replay_queue_bytes) {
      // The rest would overflow the send queue (and close the socket): the viewer asks again.
      emit("daemon message", {json::string("replay paused after seq " + std::to_string(sent) +
                                           ": send logs [" + std::to_string(sent) + "] for the rest")});
      return;
    }
    emit("console output", {json::string(l.text)}, l.seq);
    sent = l.seq;
  }
}

void ConsoleSocket::send_stats() {
  auto fresh = area_.instances.find(instance_->org_id, instance_id_);
  if (!fresh) return refuse("send stats", "not_found", "instance not found");
  if (!fresh->stats) return refuse("send stats", kNoStats, "the node has not reported stats for this instance yet");
  emit("stats", {stats_object(*fresh)});
}

void ConsoleSocket::tick(std::int64_t now) {
  std::unique_lock lock(mutex_);
  if (!connection_) return;
  if (!closing_reason_.empty()) {
    // A tick after the error frame was queued: a close drops what is still queued.
    connection_->close(common::ws_close::policy, closing_reason_);
    return;
  }
  if (!caller_) {
    if (std::chrono::steady_clock::now() - opened_at_ < std::chrono::seconds(area_.limits.auth_timeout_s)) return;
    lock.unlock();
    refuse("auth", kNotAuthenticated, "no auth frame within " + std::to_string(area_.limits.auth_timeout_s) + " s");
    close_soon("not authenticated");
    return;
  }
  auto ends = caller_->expires_at;
  if (ends == 0 || expired_) return;
  if (now >= ends) {
    expired_ = true;
    lock.unlock();
    return emit("token expired", {});
  }
  if (now >= ends - area_.limits.expiring_notice_s && !expiring_told_) {
    expiring_told_ = true;
    lock.unlock();
    emit("token expiring", {});
  }
}

}  // namespace

bool ViewerSlots::take(const std::string& caller) {
  std::lock_guard lock(mutex_);
  auto& held = held_[caller];
  if (held >= per_caller_) return false;
  ++held;
  return true;
}

void ViewerSlots::give_back(const std::string& caller) {
  std::lock_guard lock(mutex_);
  if (auto it = held_.find(caller); it != held_.end() && --it->second == 0) held_.erase(it);
}

std::shared_ptr<common::WebSocketHandler> open_console(ConsoleArea& area, common::Request& upgrade, ConsoleMode mode) {
  return std::make_shared<ConsoleSocket>(area, upgrade, mode);
}

}  // namespace shardlyn
