#pragma once
// The audit trail: one row per security or administration event, written inside the
// transaction that caused it, listed and exported (CSV and JSON) by platform admins.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "store/connection.hpp"

namespace shardlyn::audit {

// Who did something, from where: the caller of a request (or nobody yet, at sign-in).
struct Actor {
  std::string user_id;   // empty: unknown (failed sign-in of an unknown address)
  std::string token_id;  // set when an API token made the request
  std::string ip;
};

// Appends an entry: `subject_user` is the account concerned (empty: none), `org_id` the
// organisation (empty: none), `at` when it happened (unset: now).
void record(store::Connection& db, std::string_view action, const Actor& actor, std::string_view org_id = {},
            std::string_view subject_user = {}, const boost::json::object& detail = {},
            std::optional<std::int64_t> at = std::nullopt);

struct Entry {
  std::string id;
  std::int64_t at = 0;
  std::string action;
  std::optional<std::string> org_id;
  std::optional<std::string> user_id;
  std::optional<std::string> actor_id;
  std::optional<std::string> token_id;
  std::string ip;
  std::string detail;  // JSON object text
};

// Filters of the admin listing; empty ones match everything. from/to: unix seconds, inclusive.
struct Filter {
  std::optional<std::string> action;
  std::optional<std::string> org_id;
  std::optional<std::string> actor_id;
  std::optional<std::int64_t> from;
  std::optional<std::int64_t> to;
};

// One page of matching entries, newest first, and the number of matches.
std::pair<std::vector<Entry>, std::int64_t> list(store::Connection& db, const Filter& filter, std::int64_t limit,
                                                 std::int64_t offset);

}  // namespace shardlyn::audit
