// threat-cloud: Panguard Threat Cloud (IoCs, feeds, campaigns, MITRE heatmap, geo, audit log).
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/service.hpp"
#include "security/api_key.hpp"

#include "analytics.hpp"
#include "api_keys.hpp"
#include "audit.hpp"
#include "backups.hpp"
#include "campaigns.hpp"
#include "events.hpp"
#include "feed_stream.hpp"
#include "feeds.hpp"
#include "geoip.hpp"
#include "import_command.hpp"
#include "iocs.hpp"
#include "mitre.hpp"
#include "reputation.hpp"
#include "routes.hpp"
#include "rules.hpp"
#include "sightings.hpp"
#include "sources.hpp"
#include "stats.hpp"

std::span<const common::EmbeddedFile> threat_cloud_migrations();
std::span<const common::EmbeddedFile> threat_cloud_openapi();
std::span<const common::EmbeddedFile> threat_cloud_assets();

namespace {

common::ServiceInfo describe() {
  return {
      .name = "threat-cloud",
      .summary = "Panguard Threat Cloud: IoCs, feeds, campaigns, MITRE heatmap, geographic queries, audit log",
      .metrics_prefix = "threat_cloud",
      .style = common::ResponseStyle::Envelope,
      .host_env = "TC_HOST",
      .port_env = "TC_PORT",
      .default_port = 8080,
      .rate_limit_env = "TC_RATE_LIMIT",
      .default_rate_limit = "3000/min",
      .openapi_yaml = threat_cloud_openapi().front().data,
      .options =
          {{"TC_DB_PATH", "", "database file (default DATA_DIR/threat-cloud.db)"},
           {"TC_API_KEYS", "", "comma-separated bootstrap admin API keys, each at least 32 characters", true},
           {"TC_PUBLIC_READS", "true",
            "serve the community reads (IoC lookups, feeds, stats, queries) without a key, limited per client IP"},
           {"TC_RATE_LIMIT_READ", "600/min", "per-key limit for lookups and lists (N/s, N/min, N/h, :burst)"},
           {"TC_RATE_LIMIT_WRITE", "120/min", "per-key limit for uploads and changes"},
           {"TC_RATE_LIMIT_FEED", "60/min", "per-key limit for blocklists and feeds"},
           {"TC_RATE_LIMIT_ADMIN", "60/min", "per-key limit for key management and the audit log"},
           {"TC_BACKUP_DIR", "",
            "directory for online backups, relative to DATA_DIR (POST /api/admin/backup, and daily); unset = off"},
           {"TC_BACKUP_KEEP", "7", "how many backups to keep"},
           {"TC_BACKUP_INTERVAL", "86400", "seconds between scheduled backups (daily by default)"},
           {"TC_IOC_EXPIRE_DAYS", "365",
            "active IoCs unseen for this many days become expired (checked at start and hourly)"},
           {"TC_ANONYMIZE_UPLOADS", "true",
            "cut attacker IPs of POST /api/threats to /16 (IPv4) and /48 (IPv6) before anything is stored"},
           {"TC_ANONYMOUS_UPLOADS", "false", "accept POST /api/threats without a key (limited per client IP)"},
           // Uploads wait on commits; more workers let them share commits (group commit).
           {"WORKER_THREADS", "64", "threads for database writes and other blocking work"},
           {"TC_GEOIP_FILE", "/usr/share/tor/geoip,/usr/share/tor/geoip6",
            "comma list of IP-to-country range files (start,end,CC: Tor geoip/geoip6 or ip-location-db CSV); off = "
            "none"},
           {"TC_COUNTRY_NAMES_FILE", "/usr/share/iso-codes/json/iso_3166-1.json",
            "ISO 3166-1 country names (iso-codes)"},
           {"TC_CORRELATION_INTERVAL", "300", "seconds between runs of the campaign correlation job"},
           {"TC_CORRELATION_LOOKBACK_HOURS", "168", "the job looks at uncorrelated events received this recently"},
           {"TC_CAMPAIGN_DORMANT_DAYS", "7", "automatic campaigns without events for this many days become dormant"},
           {"TC_REPUTATION_INTERVAL", "3600", "seconds between runs of the reputation job"},

           {"TC_FEED_STREAMS", "32", "feeds streamed at once (each reads its own snapshot); more get 503"},
           {"TC_FEED_STREAMS_PER_CLIENT", "4", "feeds one API key, or one anonymous address (IPv6: /64), streams at once"},
           {"TC_FEED_STREAMS_KEYED", "",
            "of TC_FEED_STREAMS, how many only callers with an API key may use (default: half)"}},
  };
}

std::string_view asset(std::string_view name) {
  for (const auto& file : threat_cloud_assets())
    if (file.name == name) return file.data;
  throw std::logic_error("missing embedded asset " + std::string(name));
}

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

tc::FeedSlotLimits feed_slot_limits(const common::Config& config) {
  tc::FeedSlotLimits limits{.total = static_cast<int>(config.get_int("TC_FEED_STREAMS", 1, 1000))};
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

void setup(common::Service& service) {
  auto keys_text = service.secret("TC_API_KEYS", [] { return security::generate_api_key("tc").full(); });
  for (const auto& key : common::split_list(keys_text))
    if (key.size() < 32) throw common::ConfigError("every key in TC_API_KEYS must be at least 32 characters");
  const auto& config = service.config();
  // Per-key rate-limit classes (per client IP for anonymous public reads).
  service.limit_class("read", config.get_limit("TC_RATE_LIMIT_READ"));
  service.limit_class("write", config.get_limit("TC_RATE_LIMIT_WRITE"));
  service.limit_class("feed", config.get_limit("TC_RATE_LIMIT_FEED"));
  service.limit_class("admin", config.get_limit("TC_RATE_LIMIT_ADMIN"));
  std::string db_file = config.get("TC_DB_PATH");
  auto& db = service.open_database(db_file.empty() ? "threat-cloud.db" : db_file, threat_cloud_migrations());

  // The writer keeps the index pages of bulk uploads cached (random keys touch many pages) and
  // its statement journals in memory.
  db.write([](store::Connection& c) {
    c.exec("PRAGMA cache_size=-32768");
    c.exec("PRAGMA temp_store=MEMORY");
  });
  auto& keys = service.make<tc::ApiKeys>(db, common::split_list(keys_text));
  auto& iocs = service.make<tc::Iocs>(db);
  auto& sightings = service.make<tc::Sightings>(db);
  auto& stats = service.make<tc::Stats>(db);
  auto& audit = service.make<tc::AuditLog>(db);
  std::string backup_dir = config.get("TC_BACKUP_DIR");  // relative to DATA_DIR
  auto& backups =
      service.make<tc::Backups>(db, backup_dir.empty() ? std::filesystem::path() : service.data_dir() / backup_dir,
                                static_cast<int>(config.get_int("TC_BACKUP_KEEP", 1, 1000)));
  auto expire_after = std::chrono::days(config.get_int("TC_IOC_EXPIRE_DAYS", 1, 36500));
  iocs.expire_unseen(expire_after);  // at start, then hourly
  service.every("expire-iocs", std::chrono::hours(1), [&iocs, expire_after] { iocs.expire_unseen(expire_after); });
  if (backups.configured())
    service.every("backup", std::chrono::seconds(config.get_int("TC_BACKUP_INTERVAL", 1, 365 * 86400)), [&backups] {
      backups.run(tc::Actor{"system", "127.0.0.1"});
    });

  // Threat events, campaigns and the queries over them.
  auto& attack = service.make<tc::AttackCatalog>(asset("enterprise-attack-techniques.json"));
  auto& geo = service.make<tc::GeoIp>(geoip_files(config), config.get("TC_COUNTRY_NAMES_FILE"));
  auto& events = service.make<tc::ThreatEvents>(db, geo);
  auto& campaigns = service.make<tc::Campaigns>(
      db, tc::CorrelationSettings{
              .lookback = std::chrono::hours(config.get_int("TC_CORRELATION_LOOKBACK_HOURS", 1, 24 * 3650)),
              .dormant_after = std::chrono::days(config.get_int("TC_CAMPAIGN_DORMANT_DAYS", 1, 3650))});
  auto& correlated = service.metrics().counter("threat_cloud_correlation_events_total",
                                               "Events the scheduled correlation job put into campaigns");
  service.every("correlate-campaigns", std::chrono::seconds(config.get_int("TC_CORRELATION_INTERVAL", 1, 86400)),
                [&campaigns, &correlated] {
                  auto run = campaigns.correlate(tc::Actor{"system", "127.0.0.1"});
                  correlated.with({}).inc(static_cast<double>(run.events_correlated));
                });

  auto& reputation = service.make<tc::ReputationJob>(db);
  service.every("reputation", std::chrono::seconds(config.get_int("TC_REPUTATION_INTERVAL", 1, 7 * 86400)),
                [&reputation] { reputation.run(); });
  auto& sources = service.make<tc::Sources>(db);
  auto& rules = service.make<tc::Rules>(db);

  bool public_reads = config.get_bool("TC_PUBLIC_READS");
  tc::install_auth_schemes(service, keys, public_reads, config.get_bool("TC_ANONYMOUS_UPLOADS"));
  service.add(tc::key_routes(keys));
  service.add(tc::ioc_routes(iocs, {&events, &campaigns}));
  service.add(tc::sighting_routes(iocs, sightings));
  tc::FeedSource feed_source{db.path(), [&service](std::function<void()> work) { service.post_work(std::move(work)); },
                             &db, &service.make<tc::FeedSlots>(feed_slot_limits(config))};
  service.add(tc::feed_routes(feed_source));
  service.add(tc::stats_routes(stats));
  service.add(tc::audit_routes(audit));
  service.add(tc::admin_routes(backups));
  service.add(tc::event_routes(
      events, attack, config.get_bool("TC_ANONYMIZE_UPLOADS"),
      service.metrics().counter("threat_cloud_threat_events_total", "Threat events received, by origin and result",
                                {"origin", "result"})));
  service.add(tc::campaign_routes(campaigns));
  service.add(tc::query_routes(service.make<tc::Analytics>(db), attack, geo));
  service.add(tc::source_routes(sources));
  service.add(tc::rule_routes(rules, feed_source));
  service.add(tc::taxii_routes(db));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "import")
    return tc::import_command(argc - 2, argv + 2, threat_cloud_migrations());
  return common::run_service(describe(), argc, argv, setup);
}
