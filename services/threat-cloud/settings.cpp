#include "settings.hpp"

#include "common/error.hpp"

namespace tc {

std::vector<common::OptionSpec> options() {
  return {
      {"TC_DB_PATH", "", "database file (default DATA_DIR/threat-cloud.db)"},
      {"TC_API_KEYS", "", "comma-separated bootstrap admin API keys, each at least 32 characters", true},
      {"TC_PUBLIC_READS", "true",
       "serve the community reads (IoC lookups, feeds, stats, queries) without a key, limited per client IP"},
      {"TC_READ_RATE_LIMIT", "600/min", "per-key limit for lookups and lists (N/s, N/min, N/h, :burst)", false,
       {"TC_RATE_LIMIT_READ"}},
      {"TC_WRITE_RATE_LIMIT", "120/min", "per-key limit for uploads and changes", false, {"TC_RATE_LIMIT_WRITE"}},
      {"TC_FEED_RATE_LIMIT", "60/min", "per-key limit for blocklists and feeds", false, {"TC_RATE_LIMIT_FEED"}},
      {"TC_ADMIN_RATE_LIMIT", "60/min", "per-key limit for key management and the audit log", false,
       {"TC_RATE_LIMIT_ADMIN"}},
      {"TC_BACKUP_DIR", "",
       "directory for online backups, relative to DATA_DIR (POST /api/admin/backup, and daily); unset = off"},
      {"TC_BACKUP_KEEP", "7", "how many backups to keep"},
      {"TC_BACKUP_INTERVAL_S", "86400", "seconds between scheduled backups (daily by default)", false,
       {"TC_BACKUP_INTERVAL"}},
      {"TC_IOC_EXPIRE_DAYS", "365", "active IoCs unseen for this many days become expired (checked at start and hourly)"},
      {"TC_ANONYMIZE_UPLOADS", "true",
       "cut attacker IPs of POST /api/threats to /16 (IPv4) and /48 (IPv6) before anything is stored"},
      {"TC_ANONYMOUS_UPLOADS", "false", "accept POST /api/threats without a key (limited per client IP)"},
      // Uploads wait on commits; more workers let them share commits (group commit).
      {"WORKER_THREADS", "64", "threads for database writes and other blocking work"},
      {"TC_GEOIP_FILE", "/usr/share/tor/geoip,/usr/share/tor/geoip6",
       "comma list of IP-to-country range files (start,end,CC: Tor geoip/geoip6 or ip-location-db CSV); off = none"},
      {"TC_COUNTRY_NAMES_FILE", "/usr/share/iso-codes/json/iso_3166-1.json", "ISO 3166-1 country names (iso-codes)"},
      {"TC_CORRELATION_INTERVAL_S", "300", "seconds between runs of the campaign correlation job", false,
       {"TC_CORRELATION_INTERVAL"}},
      {"TC_CORRELATION_LOOKBACK_HOURS", "168", "the job looks at uncorrelated events received this recently"},
      {"TC_CAMPAIGN_DORMANT_DAYS", "7", "automatic campaigns without events for this many days become dormant"},
      {"TC_REPUTATION_INTERVAL_S", "3600", "seconds between runs of the reputation job", false,
       {"TC_REPUTATION_INTERVAL"}},
      {"TC_FEED_STREAMS", "32", "feeds streamed at once (each reads its own snapshot); more get 503"},
      {"TC_FEED_STREAMS_PER_CLIENT", "4", "feeds one API key, or one anonymous address (IPv6: /64), streams at once"},
      {"TC_FEED_STREAMS_KEYED", "", "of TC_FEED_STREAMS, how many only callers with an API key may use (default: half)"},
  };
}

namespace {

// The configured range files; an explicitly configured file must exist, the default ones
// (Debian tor-geoipdb) may be absent and then geographic queries answer 501, as with "off".
std::vector<std::filesystem::path> geoip_files(const common::Config& config) {
  std::vector<std::filesystem::path> files;
  if (config.get("TC_GEOIP_FILE") == "off") return files;
  for (const auto& f : config.get_list("TC_GEOIP_FILE")) {
    if (config.is_set("TC_GEOIP_FILE") && !std::filesystem::exists(f))
      throw common::ConfigError("TC_GEOIP_FILE: " + f + " does not exist");
    files.emplace_back(f);
  }
  return files;
}

FeedSlotLimits feed_slot_limits(const common::Config& config) {
  FeedSlotLimits limits{.total = static_cast<int>(config.get_int("TC_FEED_STREAMS", 1, 1000))};
  limits.per_client = static_cast<int>(config.get_int("TC_FEED_STREAMS_PER_CLIENT", 1, 1000));
  if (limits.per_client > limits.total) {
    if (config.is_set("TC_FEED_STREAMS_PER_CLIENT"))
      throw common::ConfigError("TC_FEED_STREAMS_PER_CLIENT must not exceed TC_FEED_STREAMS");
    limits.per_client = limits.total;
  }
  limits.keyed_reserve = config.is_set("TC_FEED_STREAMS_KEYED")
                             ? static_cast<int>(config.get_int("TC_FEED_STREAMS_KEYED", 0, limits.total))
                             : limits.total / 2;
  return limits;
}

std::chrono::seconds seconds(const common::Config& config, std::string_view env, std::int64_t max) {
  return std::chrono::seconds(config.get_int(env, 1, max));
}

}  // namespace

Settings read(const common::Config& config) {
  Settings s;
  s.db_file = config.get("TC_DB_PATH");
  if (s.db_file.empty()) s.db_file = "threat-cloud.db";
  s.public_reads = config.get_bool("TC_PUBLIC_READS");
  s.anonymous_uploads = config.get_bool("TC_ANONYMOUS_UPLOADS");
  s.anonymize_uploads = config.get_bool("TC_ANONYMIZE_UPLOADS");
  s.limits = {.read = config.get_limit("TC_READ_RATE_LIMIT"),
              .write = config.get_limit("TC_WRITE_RATE_LIMIT"),
              .feed = config.get_limit("TC_FEED_RATE_LIMIT"),
              .admin = config.get_limit("TC_ADMIN_RATE_LIMIT")};
  s.backup_dir = config.get("TC_BACKUP_DIR");
  s.backup_keep = static_cast<int>(config.get_int("TC_BACKUP_KEEP", 1, 1000));
  s.backup_interval = seconds(config, "TC_BACKUP_INTERVAL_S", 365 * 86400);
  s.ioc_expire_after = std::chrono::days(config.get_int("TC_IOC_EXPIRE_DAYS", 1, 36500));
  s.geoip_files = geoip_files(config);
  s.country_names_file = config.get("TC_COUNTRY_NAMES_FILE");
  s.correlation.lookback = std::chrono::hours(config.get_int("TC_CORRELATION_LOOKBACK_HOURS", 1, 24 * 3650));
  s.correlation.dormant_after = std::chrono::days(config.get_int("TC_CAMPAIGN_DORMANT_DAYS", 1, 3650));
  s.correlation_interval = seconds(config, "TC_CORRELATION_INTERVAL_S", 86400);
  s.reputation_interval = seconds(config, "TC_REPUTATION_INTERVAL_S", 7 * 86400);
  s.feed_slots = feed_slot_limits(config);
  return s;
}

std::vector<std::string> bootstrap_keys(const std::string& text) {
  auto keys = common::split_list(text);
  for (const auto& key : keys)
    if (key.size() < 32) throw common::ConfigError("every key in TC_API_KEYS must be at least 32 characters");
  return keys;
}

}  // namespace tc
