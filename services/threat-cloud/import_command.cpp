#include "import_command.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include "common/embedded.hpp"
#include "feed_formats.hpp"
#include "iocs.hpp"
#include "sources.hpp"
#include "store/database.hpp"

namespace tc {

namespace {

constexpr std::size_t kBatch = 5000;

constexpr const char* kUsage =
    "usage: threat-cloud import --format FORMAT FILE [--source NAME] [--reliability A-F] [--licence TEXT]\n"
    "                           [--redistribution yes|no] [--tlp clear|green|amber|amber+strict|red] [--db PATH]\n"
    "formats: feodo, urlhaus-csv, urlhaus-text, threatfox, spamhaus-drop, ipsum, plain, stix\n"
    "The database is --db, else DATABASE_URL (postgres://...), else TC_DB_PATH (relative to DATA_DIR),\n"
    "else DATA_DIR/threat-cloud.db (DATA_DIR defaults to ./data/threat-cloud).\n";

int usage_error(const std::string& message) { return command_usage_error("import", message, kUsage); }

// The store the service would open: DATABASE_URL on PostgreSQL, else the SQLite file, with its
// migrations applied.
std::unique_ptr<store::Database> open_store(const std::optional<std::string>& db_path, const ImportMigrations& migrations) {
  const char* url = std::getenv("DATABASE_URL");
  if (!db_path && url && *url) {
    if (!store::pg::is_postgres_url(url)) throw std::runtime_error("DATABASE_URL must be a postgres:// URL");
    auto db = std::make_unique<store::Database>(store::PostgresTarget{url, {}});
    db->migrate(store::migrations_from_files(migrations.postgres));
    return db;
  }
  // synchronous=NORMAL: a batch survives a crash of the process, not a power loss; an
  // interrupted import is simply run again (the upsert makes it idempotent).
  auto db = std::make_unique<store::Database>(db_path ? std::filesystem::path(*db_path) : default_database(),
                                              store::DatabaseOptions{.read_connections = 1, .synchronous_full = false});
  db->migrate(store::migrations_from_files(migrations.sqlite));
  db->write([&](store::Connection& c) {
    c.exec("PRAGMA cache_size=-131072");  // 128 MiB: a batch's index pages stay in memory until it commits
    c.exec("PRAGMA temp_store=MEMORY");
  });
  return db;
}

template <std::size_t N>
bool one_of(const std::string& v, const std::string_view (&allowed)[N]) {
  for (auto a : allowed)
    if (a == v) return true;
  return false;
}

// What the command line asks for.
struct ImportRequest {
  std::string format, file, tlp = "clear";
  std::optional<std::string> source, reliability, licence, redistribution, db_path;
};

// Reads the arguments into `into`; an exit code when the command ends here (help, bad usage).
std::optional<int> parse_arguments(int argc, char** argv, ImportRequest& into) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::optional<std::string>& target) {
      if (i + 1 >= argc) return false;
      target = argv[++i];
      return true;
    };
    std::optional<std::string> v;
    if (arg == "--format" && value(v))
      into.format = *v;
    else if (arg == "--source" && value(into.source))
      continue;
    else if (arg == "--reliability" && value(into.reliability))
      continue;
    else if (arg == "--licence" && value(into.licence))
      continue;
    else if (arg == "--redistribution" && value(into.redistribution))
      continue;
    else if (arg == "--tlp" && value(v))
      into.tlp = *v;
    else if (arg == "--db" && value(into.db_path))
      continue;
    else if (arg == "--help" || arg == "-h")
      return std::cout << kUsage, 0;
    else if (!arg.starts_with("--") && into.file.empty())
      into.file = arg;
    else
      return usage_error("unexpected argument '" + arg + "'");
  }
  const FeedFormat* fmt = find_feed_format(into.format);
  if (!fmt) return usage_error(into.format.empty() ? "--format is required" : "unknown format '" + into.format + "'");
  if (into.file.empty()) return usage_error("FILE is required");
  if (into.reliability && !one_of(*into.reliability, kReliabilities)) return usage_error("--reliability must be A-F");
  if (!one_of(into.tlp, kTlps)) return usage_error("--tlp must be clear, green, amber, amber+strict or red");
  if (into.redistribution && *into.redistribution != "yes" && *into.redistribution != "no")
    return usage_error("--redistribution must be yes or no");
  if (into.source && (into.source->empty() || into.source->size() > 128))
    return usage_error("--source must be 1-128 characters");
  return std::nullopt;
}

struct ImportCounts {
  ParseReport report;
  std::int64_t created = 0, updated = 0;
};

// Parses the feed and upserts its entries in batches of kBatch.
ImportCounts import_feed(store::Database& db, const ImportRequest& request, const Source& src, std::istream& in) {
  Iocs iocs(db);
  const Actor by{"import", "127.0.0.1"};
  std::vector<IocSubmission> batch;
  ImportCounts counts;
  auto flush = [&] {
    if (batch.empty()) return;
    auto result = iocs.upsert(batch, by);
    counts.created += result.created;
    counts.updated += result.updated;
    batch.clear();
  };
  counts.report = parse_feed(request.format, in, [&](ParsedIoc p) {
    IocSubmission s;
    s.value = std::move(p.value);
    s.classified = std::move(p.key);
    s.threat_type = std::move(p.threat_type);
    s.source = src.name;
    s.source_reliability = src.reliability;
    s.tlp = request.tlp;
    s.confidence = p.confidence;
    s.reputation = p.reputation;
    s.first_seen = std::move(p.first_seen);
    s.last_seen = std::move(p.last_seen);
    s.tags = std::move(p.tags);
    batch.push_back(std::move(s));
    if (batch.size() >= kBatch) flush();
  });
  flush();
  return counts;
}

}  // namespace

int command_usage_error(std::string_view command, const std::string& message, std::string_view usage) {
  std::cerr << "threat-cloud " << command << ": " << message << "\n" << usage;
  return 2;
}

std::filesystem::path default_database() {
  const char* data_dir = std::getenv("DATA_DIR");
  const char* db = std::getenv("TC_DB_PATH");
  std::filesystem::path dir = data_dir && *data_dir ? data_dir : "./data/threat-cloud";
  return dir / (db && *db ? db : "threat-cloud.db");
}

int import_command(int argc, char** argv, const ImportMigrations& migrations) {
  ImportRequest request;
  if (auto exit_code = parse_arguments(argc, argv, request)) return *exit_code;
  const FeedFormat* fmt = find_feed_format(request.format);
  Source src{.name = request.source.value_or(std::string(fmt->source)),
             .reliability = request.reliability.value_or(std::string(fmt->reliability)),
             .licence = request.licence.value_or(std::string(fmt->licence)),
             .redistribution = request.redistribution ? *request.redistribution == "yes" : fmt->redistribution,
             .url = std::string(fmt->url)};

  std::ifstream in(request.file, std::ios::binary);
  if (!in) {
    std::cerr << "threat-cloud import: cannot read " << request.file << "\n";
    return 1;
  }
  try {
    auto store = open_store(request.db_path, migrations);
    auto& db = *store;
    db.write([&](store::Connection& c) { save_source(c, src); });
    auto counts = import_feed(db, request, src, in);
    const auto& report = counts.report;
    boost::json::object out{{"format", request.format},
                            {"file", request.file},
                            {"source", src.name},
                            {"reliability", src.reliability},
                            {"licence", src.licence},
                            {"redistribution", src.redistribution},
                            {"lines", report.lines},
                            {"imported", report.entries},
                            {"created", counts.created},
                            {"updated", counts.updated},
                            {"malformed", report.malformed},
                            {"skipped", report.skipped},
                            {"errors", boost::json::value_from(report.errors)}};
    std::cout << boost::json::serialize(out) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "threat-cloud import: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tc
