#include "control/tunnel.hpp"

#include "common/log.hpp"

namespace agent {

namespace json = boost::json;
using namespace agentproto;

namespace {
constexpr std::chrono::milliseconds kPumpPoll{250};
}  // namespace

struct Tunnel::Channel {
  OpenChannel open;
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t credit = 0;
  std::atomic<bool> closed{false};
  std::unique_ptr<Terminal> terminal;
  std::thread pump;
};

Tunnel::Tunnel(TunnelOptions options, Reconciler& reconciler, InventorySources inventory)
    : options_(std::move(options)), reconciler_(reconciler), inventory_(inventory), requests_(std::move(inventory), reconciler) {
  common::WebSocketClientOptions ws;
  ws.url = options_.url;
  ws.ca_file = options_.ca_file;
  ws.headers = {{"X-Agent-Token", options_.agent_token}};
  ws.backoff_initial = std::chrono::milliseconds(500);
  ws.backoff_max = std::chrono::seconds(30);
  // A stop waits at most close_timeout (2 s) for the API's side of the close, within
  // SHUTDOWN_GRACE_S.
  client_ = std::make_unique<common::WebSocketClient>(
      ws, common::WebSocketClient::Events{
              .open = [this] { common::log::info("tunnel connected", {{"url", options_.url}}); },
              .message = [this](std::string_view text, bool) { on_message(text); },
              .closed = [this](std::uint16_t code, const std::string& reason) {
                if (code != 1006) common::log::info("tunnel closed", {{"code", code}, {"reason", reason}});
                on_closed();
              }});
}

Tunnel::~Tunnel() { stop(); }

void Tunnel::start() { client_->start(); }

void Tunnel::stop() {
  client_->stop();
  on_closed();
}

bool Tunnel::connected() const { return client_->connected(); }
std::uint64_t Tunnel::connects() const { return client_->connects(); }

std::size_t Tunnel::open_channels() const {
  std::lock_guard lock(mutex_);
  return channels_.size();
}

bool Tunnel::send(const TunnelFrame& frame) { return client_->send(to_text(frame)); }

std::shared_ptr<Tunnel::Channel> Tunnel::find(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : it->second;
}

void Tunnel::on_message(std::string_view text) {
  TunnelFrame frame;
  try {
    frame = from_text<TunnelFrame>(text, "frame");
  } catch (const ProtocolError& e) {
    // Never silence: the API hears what was wrong with its frame.
    refuse(0, "frame", "bad_frame", e.what());
    return;
  }
  std::visit(
      [this](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, OpenChannel>) open_channel(f);
        else if constexpr (std::is_same_v<T, ChannelData>) channel_data(f);
        else if constexpr (std::is_same_v<T, ChannelCredit>) credit(f);
        else if constexpr (std::is_same_v<T, CloseChannel>) close_channel(f.channel, f.reason, false);
        else if constexpr (std::is_same_v<T, TunnelRequest>) answer(f);
        else refuse(0, "response", "unexpected_frame", "the agent sends responses, it does not take them");
      },
      frame);
}

void Tunnel::refuse(std::uint64_t channel, const std::string& event, const std::string& code, const std::string& message) {
  send(ChannelData{channel, "error", json::array{json::object{{"event", event}, {"code", code}, {"message", message}}}, {}});
}

void Tunnel::open_channel(const OpenChannel& open) {
  if (find(open.channel)) return refuse(open.channel, "open", "channel_in_use", "channel " + std::to_string(open.channel) + " is already open");
  if (open.kind == ChannelKind::Terminal) {
    auto channel = std::make_shared<Channel>();
    channel->open = open;
    channel->credit = open.window_bytes;
    try {
      channel->terminal = std::make_unique<Terminal>(open.cols, open.rows, inventory_.data_dir.string());
    } catch (const std::exception& e) {
      send(CloseChannel{open.channel, e.what()});
      return;
    }
    common::log::info("terminal opened", {{"channel", open.channel}});
    std::lock_guard lock(mutex_);
    channels_[open.channel] = channel;
    channel->pump = std::thread([this, channel] { terminal_pump(channel); });
    return;
  }
  if (open.kind == ChannelKind::ContainerLogs) {
    auto channel = std::make_shared<Channel>();
    channel->open = open;
    channel->credit = open.window_bytes;
    std::lock_guard lock(mutex_);
    channels_[open.channel] = channel;
    channel->pump = std::thread([this, channel] { container_pump(channel); });
    return;
  }
  auto handle = reconciler_.handle(open.instance_id);
  if (!handle) {
    send(CloseChannel{open.channel, "instance " + open.instance_id + " does not run on this node"});
    return;
  }
  auto channel = std::make_shared<Channel>();
  channel->open = open;
  channel->credit = open.window_bytes;
  std::lock_guard lock(mutex_);  // held until `pump` is set: the pump may end (and detach) at once
  channels_[open.channel] = channel;
  channel->pump = std::thread([this, channel, h = *handle] { pump(channel, h); });
}

void Tunnel::pump(std::shared_ptr<Channel> channel, InstanceHandle handle) {
  try {
    auto& driver = reconciler_.driver();
    auto tail = driver.logs(handle, 1);
    std::uint64_t last = tail.empty() ? 0 : tail.back().seq;
    std::uint64_t since = channel->open.since_seq.value_or(last);
    // Past the run's last line: the API saw an earlier run, and this one is new to it.
    if (since > last) since = 0;
    // An install run ends with its own output; the run that follows gets a channel of its own.
    const char* event = reconciler_.installing(handle.instance_id) ? "install output" : "console output";
    pump_lines(*channel, *driver.attach(handle, since), event);
  } catch (const std::exception& e) {
    common::log::warn("tunnel channel failed", {{"channel", channel->open.channel}, {"error", e.what()}});
  }
  channel_ended(channel, "instance output ended");
}

void Tunnel::pump_lines(Channel& channel, Console& console, const char* event) {
  while (!channel.closed) {
    auto line = console.next(kPumpPoll);
    if (!line) {
      if (console.ended()) break;
      continue;
    }
    ChannelData data{channel.open.channel, event, json::array{json::string(line->text)}, line->seq};
    if (!send_within_credit(channel, to_text(TunnelFrame{data}))) break;
  }
}

// A container's output (docker nodes), asked of the engine on the channel's own thread: first
// a "container" event (or an "error" naming the refusal), then its lines.
void Tunnel::container_pump(std::shared_ptr<Channel> channel) {
  std::string reason = "container output ended";
  try {
    auto [container, output] = requests_.container_logs(channel->open);
    ChannelData found{channel->open.channel, "container", json::array{container_json(container)}, {}};
    if (send_within_credit(*channel, to_text(TunnelFrame{found})))
      pump_lines(*channel, *output, "container output");
  } catch (const RequestRefused& e) {
    refuse(channel->open.channel, "open", e.code(), e.what());
    reason = e.what();
  } catch (const std::exception& e) {
    refuse(channel->open.channel, "open", "engine_failed", e.what());
    reason = e.what();
  }
  channel_ended(channel, reason);
}

void Tunnel::terminal_pump(std::shared_ptr<Channel> channel) {
  while (!channel->closed && !channel->terminal->ended()) {
    auto text = channel->terminal->read(kPumpPoll);
    if (!text) continue;
    ChannelData data{channel->open.channel, "terminal output", json::array{json::string(*text)}, {}};
    if (!send_within_credit(*channel, to_text(TunnelFrame{data}))) break;
  }
  channel_ended(channel, "terminal ended");
}

bool Tunnel::send_within_credit(Channel& channel, std::string text) {
  std::unique_lock lock(channel.mutex);
  // Flow control: wait for credit rather than queue without bound.
  channel.changed.wait(lock, [&] { return channel.closed || channel.credit >= text.size(); });
  if (channel.closed) return false;
  channel.credit -= text.size();
  lock.unlock();
  return client_->send(std::move(text));
}

// The pump's own end (output ended): tell the API, unless it closed the channel itself.
void Tunnel::channel_ended(const std::shared_ptr<Channel>& channel, const std::string& reason) {
  if (channel->closed.exchange(true)) return;
  send(CloseChannel{channel->open.channel, reason});
  std::lock_guard lock(mutex_);
  if (auto it = channels_.find(channel->open.channel); it != channels_.end() && it->second == channel) {
    it->second->pump.detach();  // this thread: nobody joins itself
    channels_.erase(it);
  }
}

void Tunnel::channel_data(const ChannelData& data) {
  auto channel = find(data.channel);
  if (!channel) return refuse(data.channel, data.event, "no_channel", "channel " + std::to_string(data.channel) + " is not open");
  if (channel->terminal) return terminal_data(*channel, data);
  if (data.event != "send command")
    return refuse(data.channel, data.event, "unknown_event", "the agent takes only 'send command' on this channel");
  if (channel->open.kind != ChannelKind::Console)
    return refuse(data.channel, data.event, "read_only", "a logs channel is read-only");
  if (data.args.size() != 1 || !data.args[0].is_string())
    return refuse(data.channel, data.event, "bad_args", "send command takes one string");
  auto handle = reconciler_.handle(channel->open.instance_id);
  try {
    if (!handle) throw RuntimeError("instance " + channel->open.instance_id + " does not run on this node");
    reconciler_.driver().send_input(*handle, std::string(data.args[0].as_string()));
  } catch (const RuntimeError& e) {
    refuse(data.channel, data.event, "offline", e.what());
  }
}

void Tunnel::terminal_data(Channel& channel, const ChannelData& data) {
  if (data.event == "terminal input" && data.args.size() == 1 && data.args[0].is_string())
    return channel.terminal->write(data.args[0].as_string());
  if (data.event == "terminal resize" && data.args.size() == 2 && data.args[0].is_int64() && data.args[1].is_int64() &&
      data.args[0].as_int64() > 0 && data.args[1].as_int64() > 0 && data.args[0].as_int64() < 10000 &&
      data.args[1].as_int64() < 10000)
    return channel.terminal->resize(static_cast<unsigned>(data.args[0].as_int64()), static_cast<unsigned>(data.args[1].as_int64()));
  refuse(data.channel, data.event, "bad_frame",
         "a terminal takes 'terminal input' [text] and 'terminal resize' [cols, rows]");
}

void Tunnel::credit(const ChannelCredit& c) {
  auto channel = find(c.channel);
  if (!channel) return;
  std::lock_guard lock(channel->mutex);
  channel->credit += c.bytes;
  channel->changed.notify_all();
}

void Tunnel::close_channel(std::uint64_t id, const std::string& reason, bool tell_api) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(id);
    if (it == channels_.end()) return;
    channel = it->second;
    channels_.erase(it);
  }
  {
    std::lock_guard lock(channel->mutex);
    channel->closed = true;
    channel->changed.notify_all();
  }
  if (channel->pump.joinable() && channel->pump.get_id() != std::this_thread::get_id()) channel->pump.join();
  if (tell_api) send(CloseChannel{id, reason});
}

void Tunnel::on_closed() {
  // The API forgets the channels of a dropped tunnel; the agent does the same.
  std::vector<std::uint64_t> ids;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, c] : channels_) ids.push_back(id);
  }
  for (auto id : ids) close_channel(id, "tunnel closed", false);
}

void Tunnel::answer(const TunnelRequest& request) {
  requests_.submit(request, [this](const TunnelResponse& response) { send(response); });
}

}  // namespace agent
