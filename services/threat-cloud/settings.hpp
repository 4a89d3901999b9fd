#pragma once
// threat-cloud's settings: the options it declares and the one typed record read from them.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "campaigns.hpp"
#include "common/config.hpp"
#include "common/limiter.hpp"
#include "feeds.hpp"

namespace tc {

// Per-key limits of the rate-limit classes (per client IP for anonymous callers).
struct RateLimits {
  common::LimitSpec read, write, feed, admin;
};

struct Settings {
  std::string db_file;  // relative to DATA_DIR unless absolute
  bool public_reads = true;
  bool anonymous_uploads = false;
  bool anonymize_uploads = true;
  RateLimits limits;
  std::string backup_dir;  // relative to DATA_DIR; "" = backups off
  int backup_keep = 7;
  std::chrono::seconds backup_interval{86400};
  std::chrono::days ioc_expire_after{365};
  std::vector<std::filesystem::path> geoip_files;  // empty = geographic queries answer 501
  std::string country_names_file;
  CorrelationSettings correlation;
  std::chrono::seconds correlation_interval{300};
  std::chrono::seconds reputation_interval{3600};
  FeedSlotLimits feed_slots;
};

std::vector<common::OptionSpec> options();
// Throws common::ConfigError naming the variable when a value is not acceptable.
Settings read(const common::Config& config);
// The bootstrap admin keys of TC_API_KEYS (comma separated), each at least 32 characters.
std::vector<std::string> bootstrap_keys(const std::string& text);

}  // namespace tc
