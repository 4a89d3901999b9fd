// threat-cloud: Panguard Threat Cloud (IoCs, feeds, campaigns, MITRE heatmap, geo, audit log).
#include <chrono>

#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/service.hpp"
#include "security/api_key.hpp"

#include "api_keys.hpp"
#include "audit.hpp"
#include "backups.hpp"
#include "feed_stream.hpp"
#include "feeds.hpp"
#include "import_command.hpp"
#include "iocs.hpp"
#include "reputation.hpp"
#include "routes.hpp"
#include "rules.hpp"
#include "sightings.hpp"
#include "sources.hpp"
#include "stats.hpp"

std::span<const common::EmbeddedFile> threat_cloud_migrations();
std::span<const common::EmbeddedFile> threat_cloud_openapi();

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
           {"TC_PUBLIC_READS", "false", "serve IoC lookups and feeds without a key (limited per client IP)"},
           {"TC_RATE_LIMIT_READ", "600/min", "per-key limit for lookups and lists (N/s, N/min, N/h, :burst)"},
           {"TC_RATE_LIMIT_WRITE", "120/min", "per-key limit for uploads and changes"},
           {"TC_RATE_LIMIT_FEED", "60/min", "per-key limit for blocklists and feeds"},
           {"TC_RATE_LIMIT_ADMIN", "60/min", "per-key limit for key management and the audit log"},
           {"TC_BACKUP_DIR", "",
            "directory for online backups, relative to DATA_DIR (POST /api/admin/backup, and daily); unset = off"},
           {"TC_BACKUP_KEEP", "7", "how many backups to keep"},
           {"TC_IOC_EXPIRE_DAYS", "365",
            "active IoCs unseen for this many days become expired (checked at start and hourly)"},
           {"TC_REPUTATION_INTERVAL", "3600", "seconds between runs of the reputation job"},
           {"TC_FEED_STREAMS", "32", "feeds streamed at once (each reads its own snapshot); more get 503"}},
  };
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
    service.every("backup", std::chrono::hours(24), [&backups] { backups.run(tc::Actor{"system", "127.0.0.1"}); });

  tc::Snapshot::set_max_open(static_cast<int>(config.get_int("TC_FEED_STREAMS", 1, 1000)));
  auto& reputation = service.make<tc::ReputationJob>(db);
  service.every("reputation", std::chrono::seconds(config.get_int("TC_REPUTATION_INTERVAL", 1, 7 * 86400)),
                [&reputation] { reputation.run(); });
  auto& sources = service.make<tc::Sources>(db);
  auto& rules = service.make<tc::Rules>(db);

  bool public_reads = config.get_bool("TC_PUBLIC_READS");
  tc::install_auth_schemes(service, keys, public_reads);
  service.add(tc::key_routes(keys));
  service.add(tc::ioc_routes(iocs));
  service.add(tc::sighting_routes(iocs, sightings));
  tc::FeedSource feed_source{db.path(), [&service](std::function<void()> work) { service.post_work(std::move(work)); },
                             &db};
  service.add(tc::feed_routes(feed_source));
  service.add(tc::stats_routes(stats));
  service.add(tc::audit_routes(audit));
  service.add(tc::admin_routes(backups));
  service.add(tc::source_routes(sources));
  service.add(tc::rule_routes(rules, feed_source));
  auto& taxii = service.make<tc::TaxiiAccess>(keys, public_reads, config.get_limit("TC_RATE_LIMIT_READ"), &db);
  service.add(tc::taxii_routes(taxii));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "import")
    return tc::import_command(argc - 2, argv + 2, threat_cloud_migrations());
  return common::run_service(describe(), argc, argv, setup);
}
