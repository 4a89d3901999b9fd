#include "common/shared_events.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "common/clock.hpp"
#include "common/log.hpp"

namespace common {

namespace {

// The advisory-lock key that serialises inserts into one table: FNV-1a of "events:<table>".
std::int64_t insert_lock_key(const std::string& table) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : "events:" + table) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<std::int64_t>(hash);
}

}  // namespace

SharedEvents::SharedEvents(EventHub& hub, store::Database& db, std::string table, std::string channel,
                           std::size_t replay)
    : hub_(hub), db_(db), table_(std::move(table)), channel_(std::move(channel)), lock_key_(insert_lock_key(table_)) {
  const auto first = db_.read([&](store::Connection& c) {
    return c.query_int("SELECT coalesce(min(id), (SELECT coalesce(max(id), 0) + 1 FROM " + table_ +
                           ")) FROM (SELECT id FROM " + table_ + " ORDER BY id DESC LIMIT ?) AS newest",
                       static_cast<std::int64_t>(replay));
  });
  delivered_ = static_cast<std::uint64_t>(first.value_or(1) - 1);
  hub_.set_publisher([this](const std::string& type, const std::string& data) { return publish(type, data); },
                     delivered_);
  store::pg::Connection session(db_.url());
  while (catch_up(session) > 0) {
  }
  listener_ = std::thread([this] { listen(); });
}

SharedEvents::~SharedEvents() { stop(); }

void SharedEvents::stop() {
  if (stopping_.exchange(true)) return;
  if (listener_.joinable()) listener_.join();
  hub_.set_publisher(nullptr, delivered_);
}

std::uint64_t SharedEvents::publish(const std::string& type, const std::string& data) {
  return static_cast<std::uint64_t>(db_.write([&](store::Connection& c) {
    c.execute("SELECT pg_advisory_xact_lock(?)", lock_key_);  // ids in commit order
    const auto id = c.query_int("INSERT INTO " + table_ + " (type, data, at) VALUES (?, ?, ?) RETURNING id", type,
                                data, unix_seconds());
    c.execute("SELECT pg_notify(?, ?)", channel_, std::to_string(*id));
    return *id;
  }));
}

std::size_t SharedEvents::catch_up(store::pg::Connection& session) {
  const auto rows = session.query("SELECT id, type, data FROM " + table_ + " WHERE id > $1 ORDER BY id LIMIT 1000",
                                  static_cast<std::int64_t>(delivered_.load()));
  for (int row = 0; row < rows.rows(); ++row) {
    const auto id = static_cast<std::uint64_t>(rows.int64(row, 0));
    hub_.deliver(id, rows.text(row, 1), rows.text(row, 2));
    delivered_ = id;
  }
  return static_cast<std::size_t>(rows.rows());
}

void SharedEvents::listen() {
  std::unique_ptr<store::pg::Connection> session;
  while (!stopping_) {
    try {
      if (!session) {
        session = std::make_unique<store::pg::Connection>(db_.url());
        session->listen(channel_);
      }
      while (catch_up(*session) > 0) {
      }
      session->wait_notification(std::chrono::milliseconds(1000));
    } catch (const std::exception& e) {
      log::warn("event stream listener lost its session; reconnecting", {{"error", e.what()}});
      session.reset();
      for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void SharedEvents::trim(std::int64_t keep) {
  db_.write([&](store::Connection& c) {
    c.execute("DELETE FROM " + table_ + " WHERE id < (SELECT id FROM " + table_ + " ORDER BY id DESC LIMIT 1 OFFSET ?)",
              std::max<std::int64_t>(keep - 1, 0));
  });
}

}  // namespace common
