// threat-cloud: Panguard Threat Cloud (IoCs, feeds, campaigns, MITRE heatmap, geo, audit log).
#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/service.hpp"
#include "security/api_key.hpp"

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
      .openapi_yaml = threat_cloud_openapi().front().data,
      .options = {{"TC_DB_PATH", "", "database file (default DATA_DIR/threat-cloud.db)"},
                  {"TC_API_KEYS", "", "comma-separated bootstrap admin API keys, each at least 32 characters", true}},
  };
}

void setup(common::Service& service) {
  auto keys = service.secret("TC_API_KEYS", [] { return security::generate_api_key("tc").full(); });
  for (const auto& key : common::split_list(keys))
    if (key.size() < 32) throw common::ConfigError("every key in TC_API_KEYS must be at least 32 characters");
  std::string db = service.config().get("TC_DB_PATH");
  service.open_database(db.empty() ? "threat-cloud.db" : db, threat_cloud_migrations());
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
