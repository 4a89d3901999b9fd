#pragma once
// What every service binary shares: configuration, the request pipeline (request id, client
// ip, security headers, CORS, rate limits, routing, authentication, error style, access log,
// metrics), the standard endpoints (health, readiness, metrics, OpenAPI, docs), its SQLite
// store and graceful shutdown. A service's main() describes itself and adds its routes.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/config.hpp"
#include "common/envelope.hpp"
#include "common/library_schema.hpp"
#include "common/limiter.hpp"
#include "common/metrics.hpp"
#include "common/router.hpp"
#include "common/server.hpp"
#include "store/database.hpp"

namespace common {

struct EmbeddedFile;

// The rate-limit class of documentation and static assets (STATIC_RATE_LIMIT, per IP): routes
// naming it are outside the service-wide per-IP limit.
inline constexpr std::string_view kStaticLimit = "static";

struct ServiceInfo {
  std::string name;            // "auth-server"; also the default DATA_DIR ./data/<name>
  std::string summary;         // one line for --help
  std::string metrics_prefix;  // "auth_server" -> auth_server_http_requests_total
  ResponseStyle style = ResponseStyle::Envelope;
  std::string host_env;  // AUTH_HOST
  std::string port_env;  // AUTH_PORT
  std::uint16_t default_port = 0;
  std::string rate_limit_env;      // service-wide per-IP limit variable ("" = none)
  std::string default_rate_limit;  // e.g. "20/min"
  std::string docs_path = "/docs";
  std::string openapi_json_path = "/openapi.json";
  std::string openapi_yaml_path;               // "" = not served
  std::string_view openapi_yaml;               // the embedded document
  std::vector<std::string> liveness_aliases;   // more paths answering like /health
  std::vector<std::string> readiness_aliases;  // more paths answering like /health/ready
  std::string detailed_health_path;            // "" = none; components with status and latency
  std::vector<OptionSpec> options;             // the service's own settings
  // The PostgreSQL migrations (services/<name>/migrations_pg/) of a service that can run on
  // DATABASE_URL; empty = SQLite only (DATABASE_URL and its settings are not declared).
  std::span<const EmbeddedFile> postgres_migrations;
};

class Service {
 public:
  Service(ServiceInfo info, Config config);
  ~Service();

  const ServiceInfo& info() const;
  const Config& config() const;
  const std::filesystem::path& data_dir() const;
  bool production() const;  // APP_ENV=production
  metrics::Registry& metrics();
  const Router& router() const;

  // Route table.
  void add(Route route);
  void add(std::vector<Route> routes);
  // An authenticator checks credentials for routes naming it; it throws ApiError 401/403
  // and may set request.principal and request.rate_key. The second form also gets the matched
  // route, so that one authenticator can apply the guard each route declares (scope, permission).
  void auth_scheme(std::string name, std::function<void(Request&)> authenticate);
  void auth_scheme(std::string name, std::function<void(Request&, const Route&)> authenticate);
  // A rate-limit class, keyed by request.rate_key when the authenticator set one, else the
  // client IP.
  void limit_class(std::string name, LimitSpec spec);

  // Health: readiness checks (all must pass for /health/ready) and extra /health fields.
  void readiness_check(std::string name, std::function<bool()> check);
  void health_fields(std::function<boost::json::object()> fields);

  // Opens DATA_DIR/<file>, applies the service's migrations and then the schema steps of the
  // libraries it links (common/library_schema.hpp), wires readiness, query metrics and the
  // shutdown checkpoint. The database lives as long as the service.
  // With DATABASE_URL=postgres://... (services naming postgres_migrations) it opens a pool on
  // that database instead (DATABASE_POOL_SIZE, DATABASE_STATEMENT_TIMEOUT_MS), applies the
  // PostgreSQL migrations under the advisory lock, and starts the election of the replica that
  // runs the leader_every() jobs (decision 0035).
  store::Database& open_database(const std::string& file, std::span<const EmbeddedFile> migrations,
                                 std::span<const LibraryMigration> libraries = {});
  // True after open_database() chose PostgreSQL.
  bool postgres() const;
  // A secret from the environment, or in development one generated once into DATA_DIR.
  std::string secret(std::string_view env, const std::function<std::string()>& make);

  // An HMAC signing secret of at least 32 bytes (generated in development).
  std::string signing_secret(std::string_view env);
  // A 32-byte AES-256-GCM key configured as 64 hex characters (generated in development);
  // returns the raw 32 bytes.
  std::string encryption_key(std::string_view env);

  // Creates an object that lives as long as the service (domain objects routes refer to);
  // destroyed before the database closes.
  template <class T, class... Args>
  T& make(Args&&... args) {
    auto object = std::make_shared<T>(std::forward<Args>(args)...);
    keep(object);
    return *object;
  }
  void keep(std::shared_ptr<void> object);

  void use_tls(std::string certificate_pem, std::string private_key_pem);
  // Open WebSocket connections beyond which upgrades get 503, and per client IP (429).
  void websocket_caps(std::size_t max_connections, std::size_t max_per_ip);
  void on_shutdown(std::function<void()> hook);
  // Runs `job` every `interval` on its own lane (thread) while the service serves (first run
  // one interval after start), so a slow job never delays another; a failing run is logged
  // and counted (<prefix>_job_runs_total, _job_failures_total, _job_last_duration_seconds).
  void every(std::string name, std::chrono::seconds interval, std::function<void()> job);
  // The same for a job that must run on one replica only (retention, sweeps, expiry): on
  // PostgreSQL a round runs only while this replica holds the service's job lock
  // (pg_try_advisory_lock, tried every 2 s, so the jobs move within seconds when the leader
  // dies; <prefix>_job_leader is 1 on the leader). On SQLite it is every(). Call after
  // open_database().
  void leader_every(std::string name, std::chrono::seconds interval, std::function<void()> job);
  void post_work(std::function<void()> work);

  // Checks the route table against the OpenAPI document; returns the mismatches.
  std::vector<std::string> check_openapi() const;
  // Listens, logs where, serves until SIGTERM/SIGINT or stop(), runs shutdown hooks. Exit code.
  int run();
  // Starts the same drain as SIGTERM. Any thread, any time: called before run(), it makes
  // run() drain as soon as it listens; after run() returned it does nothing.
  void stop();

  struct Impl;

 private:
  std::vector<store::Migration> open_postgres(std::span<const LibraryMigration> libraries);
  std::unique_ptr<Impl> impl_;
};

// main() of a service: parses configuration (--help, --version, --check-openapi), builds
// the Service, lets `setup` add storage and routes, then runs. Returns the exit code:
// 0 after a clean shutdown, 1 on a runtime failure, 2 on invalid configuration.
int run_service(ServiceInfo info, int argc, char** argv, const std::function<void(Service&)>& setup);

}  // namespace common
