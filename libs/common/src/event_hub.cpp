#include "common/event_hub.hpp"

#include <algorithm>

#include "common/clock.hpp"

namespace common {

std::string sse_event(std::uint64_t id, const std::string& type, const std::string& data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: " + type + "\n";
  std::size_t start = 0;
  while (true) {
    auto nl = data.find('\n', start);
    out += "data: " + data.substr(start, nl == std::string::npos ? std::string::npos : nl - start) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  out += "\n";
  return out;
}

struct EventHub::Subscriber : ResponseStream {
  std::set<std::string> types;
  std::size_t backlog_limit = 0;
  std::mutex mutex;
  std::string queued;
  ResponseStream::Deliver pending;
  bool done = false;

  bool wants(const std::string& type) const { return types.empty() || types.count(type) > 0; }

  void next(Deliver deliver) override {
    std::unique_lock lock(mutex);
    if (!queued.empty()) {
      std::string chunk = std::move(queued);
      queued.clear();
      lock.unlock();
      deliver(std::move(chunk), false);
    } else if (done) {
      lock.unlock();
      deliver({}, true);
    } else {
      pending = std::move(deliver);
    }
  }

  void cancel() override {
    std::unique_lock lock(mutex);
    done = true;
    queued.clear();
    auto deliver = std::move(pending);
    pending = nullptr;
    lock.unlock();
    // A last comment tells a watching person why the stream ended; EventSource reconnects.
    if (deliver) deliver(": stream closed by the server\n\n", true);
  }

  // Hands text to the client now, or queues it; false when the subscriber is (now) gone.
  bool push(const std::string& text) {
    std::unique_lock lock(mutex);
    if (done) return false;
    if (pending) {
      auto deliver = std::move(pending);
      pending = nullptr;
      lock.unlock();
      deliver(text, false);
      return true;
    }
    if (queued.size() + text.size() > backlog_limit) {
      done = true;  // too slow: end its stream rather than buffer without bound
      queued.clear();
      return false;
    }
    queued += text;
    return true;
  }
};

// Ids continue from the wall clock in milliseconds, so they keep increasing across restarts
// and a Last-Event-ID from before a restart never replays the wrong events.
EventHub::EventHub(Limits limits) : limits_(limits), next_id_(static_cast<std::uint64_t>(unix_millis())) {}

EventHub::~EventHub() { close_all(); }

std::string EventHub::format(std::uint64_t id, const std::string& type, const std::string& data) const {
  return sse_event(id, type, data);
}

std::vector<std::shared_ptr<EventHub::Subscriber>> EventHub::store_locked(std::uint64_t id, const std::string& type,
                                                                          std::string text) {
  std::vector<std::shared_ptr<Subscriber>> targets;
  next_id_ = id;
  replay_.push_back({id, type, std::move(text)});
  while (replay_.size() > limits_.replay_events) replay_.pop_front();
  std::erase_if(subscribers_, [&](const std::weak_ptr<Subscriber>& w) {
    auto s = w.lock();
    if (!s) return true;
    if (s->wants(type)) targets.push_back(std::move(s));
    return false;
  });
  return targets;
}

std::uint64_t EventHub::publish(const std::string& type, const std::string& data) {
  Publisher publisher;
  {
    std::lock_guard lock(mutex_);
    publisher = publisher_;
  }
  if (publisher) return publisher(type, data);
  std::vector<std::shared_ptr<Subscriber>> targets;
  std::string text;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_ + 1;
    text = format(id, type, data);
    targets = store_locked(id, type, text);
  }
  for (auto& s : targets) s->push(text);
  return id;
}

void EventHub::set_publisher(Publisher publisher, std::uint64_t last_id) {
  std::lock_guard lock(mutex_);
  publisher_ = std::move(publisher);
  next_id_ = last_id;
}

void EventHub::deliver(std::uint64_t id, const std::string& type, const std::string& data) {
  std::vector<std::shared_ptr<Subscriber>> targets;
  const std::string text = format(id, type, data);
  {
    std::lock_guard lock(mutex_);
    if (id <= next_id_) return;
    targets = store_locked(id, type, text);
  }
  for (auto& s : targets) s->push(text);
}

std::shared_ptr<ResponseStream> EventHub::subscribe(std::optional<std::uint64_t> last_event_id,
                                                    std::set<std::string> types, const std::string& connected_data) {
  auto s = std::make_shared<Subscriber>();
  s->types = std::move(types);
  s->backlog_limit = limits_.subscriber_backlog;
  std::lock_guard lock(mutex_);
  std::string first = "retry: " + std::to_string(limits_.retry_ms) + "\n\n";
  first += format(next_id_, "connected", connected_data);
  if (last_event_id)
    for (const auto& e : replay_)
      if (e.id > *last_event_id && s->wants(e.type)) first += e.text;
  s->queued = std::move(first);
  subscribers_.push_back(s);
  return s;
}

void EventHub::keepalive() {
  std::vector<std::shared_ptr<Subscriber>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : subscribers_)
      if (auto s = w.lock()) all.push_back(std::move(s));
  }
  for (auto& s : all) s->push(": keep-alive\n\n");
}

void EventHub::close_all() {
  std::vector<std::shared_ptr<Subscriber>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : subscribers_)
      if (auto s = w.lock()) all.push_back(std::move(s));
    subscribers_.clear();
  }
  for (auto& s : all) s->cancel();
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(subscribers_.begin(), subscribers_.end(), [](const auto& w) { return !w.expired(); }));
}

std::uint64_t EventHub::last_id() const {
  std::lock_guard lock(mutex_);
  return next_id_;
}

}  // namespace common
