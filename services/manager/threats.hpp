#pragma once
// Threat events from agents: idempotent batch ingestion, cross-agent correlation within a
// window (shared source IP or file hash), escalation to critical when seen on 3+ agents,
// queries, a summary, and retention.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "common/envelope.hpp"
#include "store/database.hpp"

namespace manager {

struct ThreatSettings {
  std::int64_t correlation_window_s = 300;
  std::int64_t retention_days = 30;
  std::int64_t escalate_at_agents = 3;
};

struct ThreatReport {
  std::string event_id, source, severity, category, description;
  std::optional<std::string> raw;  // the event's raw value as JSON text (object, string, ...)
  std::optional<std::string> host, action;
  boost::json::object metadata;
  std::int64_t occurred_at = 0;
  std::string conclusion;
  std::int64_t confidence = 0;
};

// A stored threat; `severity` is raised to critical when the threat is widespread.
struct Threat {
  std::string id, agent_id, event_id;
  std::int64_t occurred_at = 0, received_at = 0;  // unix seconds
  std::string source, severity, original_severity, category, description;
  std::optional<std::string> raw;  // JSON text as the agent sent it (rows older than that: plain text)
  std::optional<std::string> host;
  boost::json::object metadata;  // the agent's free-form event metadata
  std::string conclusion;
  std::int64_t confidence = 0;
  std::optional<std::string> action, source_ip, file_hash;
  std::vector<std::string> correlated_with;  // ids, sorted
};

// A count per key (severity, category, agent id, source IP), in the order of the query.
struct KeyCount {
  std::string key;
  std::int64_t count = 0;
};

struct ThreatSummary {
  std::int64_t since = 0, total = 0;
  std::vector<KeyCount> by_severity, by_category, top_agents, top_source_ips;
  std::int64_t correlated_groups = 0;  // shared indicators seen on 2+ agents
};

struct TimelineBucket {
  std::int64_t start = 0, count = 0;
};

struct ThreatFilter {
  std::optional<std::int64_t> since, until;
  std::optional<std::string> severity, category, agent_id, conclusion;
  common::PageRequest page;
};

class Threats {
 public:
  Threats(store::Database& db, ThreatSettings settings) : db_(db), settings_(settings) {}

  struct Ingested {
    std::int64_t accepted = 0, duplicates = 0;
    std::vector<Threat> threats;          // the stored threats, with their links
    std::vector<std::string> correlated;  // ids of threats that gained a link
  };
  // Stores a batch for one agent in one transaction.
  Ingested ingest(const std::string& agent_id, const std::vector<ThreatReport>& reports);
  std::pair<std::vector<Threat>, std::int64_t> list(const ThreatFilter& filter);
  std::optional<Threat> find(const std::string& id);
  ThreatSummary summary(std::int64_t since);
  // Threat counts per `bucket_s` interval from `since` to now, oldest first, empty buckets
  // included.
  std::vector<TimelineBucket> timeline(std::int64_t since, std::int64_t bucket_s);
  // Deletes threats received before the retention period; returns how many.
  std::int64_t purge_expired();

  // The first metadata value among the keys agents use for an attacker IP / a file hash.
  static std::optional<std::string> source_ip_of(const boost::json::object& metadata);
  static std::optional<std::string> file_hash_of(const boost::json::object& metadata);

 private:
  store::Database& db_;
  ThreatSettings settings_;
};

}  // namespace manager
