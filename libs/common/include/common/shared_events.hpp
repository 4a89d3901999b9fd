#pragma once
// The event stream of a service running as several replicas on PostgreSQL: an EventHub whose
// events live in a table. publish() inserts the event and NOTIFYs its id in one transaction,
// under a transaction-level advisory lock, so ids follow commit order across replicas; every
// replica's listener (a session of its own, LISTENing) reads the events after the last it
// delivered, in id order, and hands them to its hub, which sends them to its subscribers and
// keeps them for Last-Event-ID replay. The listener also reads every second, so an event whose
// notification was lost (a dropped session) still arrives.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "common/event_hub.hpp"
#include "store/database.hpp"

namespace common {

class SharedEvents {
 public:
  // `table` has (id BIGINT identity primary key, type TEXT, data TEXT, at BIGINT), created by
  // the service's PostgreSQL migrations; `channel` is a lower-case identifier. The newest
  // `replay` events are loaded into the hub for replay, then the listener starts.
  SharedEvents(EventHub& hub, store::Database& db, std::string table, std::string channel, std::size_t replay);
  ~SharedEvents();
  SharedEvents(const SharedEvents&) = delete;
  SharedEvents& operator=(const SharedEvents&) = delete;

  // Stops the listener and gives publish() back to the hub (before the hub goes away).
  void stop();
  // Deletes all but the newest `keep` events (a leader job).
  void trim(std::int64_t keep);

 private:
  std::uint64_t publish(const std::string& type, const std::string& data);
  void listen();
  // Delivers the stored events after the last delivered one; returns how many.
  std::size_t catch_up(store::pg::Connection& session);

  EventHub& hub_;
  store::Database& db_;
  std::string table_, channel_;
  std::int64_t lock_key_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<bool> stopping_{false};
  std::thread listener_;
};

}  // namespace common
