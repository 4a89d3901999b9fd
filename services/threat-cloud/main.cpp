// threat-cloud: Panguard Threat Cloud (IoCs, feeds, campaigns, MITRE heatmap, geo, audit log).
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "common/embedded.hpp"
#include "common/migrate_to.hpp"
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
#include "settings.hpp"
#include "sightings.hpp"
#include "sources.hpp"
#include "stats.hpp"

std::span<const common::EmbeddedFile> threat_cloud_migrations();
std::span<const common::EmbeddedFile> threat_cloud_postgres_migrations();
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
      .options = tc::options(),
      .postgres_migrations = threat_cloud_postgres_migrations(),
  };
}

std::string_view asset(std::string_view name) {
  for (const auto& file : threat_cloud_assets())
    if (file.name == name) return file.data;
  throw std::logic_error("missing embedded asset " + std::string(name));
}

void setup(common::Service& service) {
  const auto settings = tc::read(service.config());
  auto keys_text = service.secret("TC_API_KEYS", [] { return security::generate_api_key("tc").full(); });
  auto bootstrap_keys = tc::bootstrap_keys(keys_text);
  // Per-key rate-limit classes (per client IP for anonymous public reads).
  service.limit_class("read", settings.limits.read);
  service.limit_class("write", settings.limits.write);
  service.limit_class("feed", settings.limits.feed);
  service.limit_class("admin", settings.limits.admin);
  auto& db = service.open_database(settings.db_file, threat_cloud_migrations());

  if (db.postgres() && !settings.backup_dir.empty())
    throw common::ConfigError("TC_BACKUP_DIR copies the SQLite file; with DATABASE_URL back PostgreSQL up with its own "
                              "tools (pg_dump, base backups)");
  // The SQLite writer keeps the index pages of bulk uploads cached (random keys touch many
  // pages) and its statement journals in memory.
  if (!db.postgres()) {
    db.write([](store::Connection& c) {
      c.exec("PRAGMA cache_size=-32768");
      c.exec("PRAGMA temp_store=MEMORY");
    });
  }
  auto& keys = service.make<tc::ApiKeys>(db, bootstrap_keys);
  auto& iocs = service.make<tc::Iocs>(db);
  auto& sightings = service.make<tc::Sightings>(db);
  auto& stats = service.make<tc::Stats>(db);
  auto& audit = service.make<tc::AuditLog>(db);
  auto& backups = service.make<tc::Backups>(
      db, settings.backup_dir.empty() ? std::filesystem::path() : service.data_dir() / settings.backup_dir,
      settings.backup_keep);
  auto expire_after = settings.ioc_expire_after;
  iocs.expire_unseen(expire_after);  // at start, then hourly
  service.leader_every("expire-iocs", std::chrono::hours(1), [&iocs, expire_after] { iocs.expire_unseen(expire_after); });
  if (backups.configured())
    service.leader_every("backup", settings.backup_interval, [&backups] { backups.run(tc::Actor{"system", "127.0.0.1"}); });

  // Threat events, campaigns and the queries over them.
  auto& attack = service.make<tc::AttackCatalog>(asset("enterprise-attack-techniques.json"));
  auto& geo = service.make<tc::GeoIp>(settings.geoip_files, settings.country_names_file);
  auto& events = service.make<tc::ThreatEvents>(db, geo);
  auto& campaigns = service.make<tc::Campaigns>(db, settings.correlation);
  auto& correlated = service.metrics().counter("threat_cloud_correlation_events_total",
                                               "Events the scheduled correlation job put into campaigns");
  service.leader_every("correlate-campaigns", settings.correlation_interval, [&campaigns, &correlated] {
    auto run = campaigns.correlate(tc::Actor{"system", "127.0.0.1"});
    correlated.with({}).inc(static_cast<double>(run.events_correlated));
  });

  auto& reputation = service.make<tc::ReputationJob>(db);
  service.leader_every("reputation", settings.reputation_interval, [&reputation] { reputation.run(); });
  auto& sources = service.make<tc::Sources>(db);
  auto& rules = service.make<tc::Rules>(db);

  tc::install_auth_schemes(service, keys, settings.public_reads, settings.anonymous_uploads);
  service.add(tc::key_routes(keys));
  service.add(tc::ioc_routes(iocs, {&events, &campaigns}));
  service.add(tc::sighting_routes(iocs, sightings));
  tc::FeedSource feed_source{[&service](std::function<void()> work) { service.post_work(std::move(work)); },
                             &db, &service.make<tc::FeedSlots>(settings.feed_slots)};
  service.add(tc::feed_routes(feed_source));
  service.add(tc::stats_routes(stats));
  service.add(tc::audit_routes(audit));
  service.add(tc::admin_routes(backups));
  service.add(tc::event_routes(
      events, attack, settings.anonymize_uploads,
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
  const tc::ImportMigrations schema{threat_cloud_migrations(), threat_cloud_postgres_migrations()};
  if (argc >= 2 && std::string_view(argv[1]) == "import") return tc::import_command(argc - 2, argv + 2, schema);
  if (argc >= 2 && std::string_view(argv[1]) == "migrate-to") {
    return common::migrate_to_command(
        argc - 2, argv + 2, {"threat-cloud", tc::default_database(), schema.sqlite, schema.postgres});
  }
  return common::run_service(describe(), argc, argv, setup);
}
