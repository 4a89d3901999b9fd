// shardlyn-api: the Shardlyn control plane (identity, organisations, nodes, workloads, instances).
#include <chrono>

#include "admin/routes.hpp"
#include "backups/routes.hpp"
#include "common/embedded.hpp"
#include "credentials/routes.hpp"
#include "common/error.hpp"
#include "common/mail.hpp"
#include "common/service.hpp"
#include "deploy/routes.hpp"
#include "http/access.hpp"
#include "gitdeploy/routes.hpp"
#include "identity/routes.hpp"
#include "identity/schema.hpp"
#include "identity/totp_store.hpp"
#include "instances/routes.hpp"
#include "nodes/desired_versions.hpp"
#include "nodes/on_node_routes.hpp"
#include "nodes/routes.hpp"
#include "orgs/routes.hpp"
#include "security/digest.hpp"
#include "settings.hpp"
#include "sshca/routes.hpp"
#include "store/time.hpp"
#include "tokens/routes.hpp"
#include "tunnel/console_routes.hpp"
#include "tunnel/routes.hpp"
#include "workloads/routes.hpp"

std::span<const common::EmbeddedFile> shardlyn_api_migrations();
std::span<const common::EmbeddedFile> shardlyn_api_openapi();

namespace {

common::ServiceInfo describe() {
  return {
      .name = "shardlyn-api",
      .summary = "Shardlyn control plane: nodes, workloads and game servers on your own machines",
      .metrics_prefix = "shardlyn",
      .style = common::ResponseStyle::Bare,
      .host_env = "SHARDLYN_HOST",
      .port_env = "SHARDLYN_PORT",
      .default_port = 8090,
      .rate_limit_env = "SHARDLYN_RATE_LIMIT",
      .default_rate_limit = "20/s:50",
      .docs_path = "/v1/docs",
      .openapi_json_path = "/v1/openapi.json",
      .openapi_yaml_path = "/v1/openapi.yaml",
      .openapi_yaml = shardlyn_api_openapi().front().data,
      .liveness_aliases = {"/health/live"},
      .readiness_aliases = {"/ready"},
      .detailed_health_path = "/health/detailed",
      .options = shardlyn::options(),
  };
}

// The domain objects, owned by the service (routes refer to them), and the areas the route
// tables act through.
struct Shardlyn {
  Shardlyn(store::Database& db, shardlyn::Settings s, std::string jwt_secret, const std::string& key32)
      : settings(std::move(s)),
        access(db, std::move(jwt_secret), security::hmac_sha256(key32, "shardlyn api token digests"),
               settings.integration_api),
        totp(key32, "Shardlyn"),
        mail(db, common::Mailer(settings.mail)),
        accounts(db, access, totp, mail, settings.accounts),
        github(db, access, accounts, settings.github),
        organizations(db),
        members(db),
        invites(db, mail, settings.invites),
        api_tokens(db, access),
        users(db),
        org_settings(db),
        webhook_tokens(db),
        support(db, mail, settings.support),
        backups(db, settings.backups),
        administration(db, access),
        node_versions(db),
        nodes(db, settings.nodes, instances, node_versions, access.token_key()),
        agents(db, settings.nodes, instances, node_versions, access.token_key()),
        workloads(db),
        instances(db, node_versions, nodes),
        deployments(db, workloads, instances),
        terminals(db, access, node_agents),
        ssh_ca(db, key32, settings.ssh_ca),
        credentials(db, key32, settings.providers),
        git_deploys(db, instances, consoles, tunnel, key32),
        backup_configs(db, key32) {}

  shardlyn::Settings settings;
  shardlyn::Access access;
  identity::TotpStore totp;
  common::MailQueue mail;
  shardlyn::Accounts accounts;
  shardlyn::GitHub github;
  shardlyn::Organizations organizations;
  shardlyn::Members members;
  shardlyn::Invites invites;
  shardlyn::ApiTokens api_tokens;
  shardlyn::Users users;
  shardlyn::OrganizationSettings org_settings;
  shardlyn::WebhookTokens webhook_tokens;
  shardlyn::Support support;
  shardlyn::SystemBackups backups;
  shardlyn::Administration administration;
  // Nodes and agents keep a reference to `instances` (their NodeInstances), declared after them.
  shardlyn::NodeVersions node_versions;
  shardlyn::Nodes nodes;
  shardlyn::Agents agents;
  shardlyn::Workloads workloads;
  shardlyn::Instances instances;
  shardlyn::Deployments deployments;
  shardlyn::TunnelHub tunnel;
  shardlyn::ConsoleFeeds consoles{tunnel, instances};
  shardlyn::ViewerSlots console_slots{settings.console_max_per_caller};
  shardlyn::AgentRequests node_agents{nodes, tunnel};
  shardlyn::Inventory inventory{node_agents};
  shardlyn::ContainerManagement containers{node_agents};
  shardlyn::NodeTerminals terminals;
  shardlyn::SshAuthority ssh_ca;
  shardlyn::Credentials credentials;
  shardlyn::GitDeploys git_deploys;
  shardlyn::BackupConfigs backup_configs;

  shardlyn::AuthArea auth_area{accounts, github};
  shardlyn::UserArea user_area{accounts, organizations, users};
  shardlyn::OrgArea org_area{organizations, members, invites};
  shardlyn::SettingsArea settings_area{org_settings, webhook_tokens, support, backups};
  shardlyn::AdminArea admin_area{administration, users};
  shardlyn::PageArea page_area{accounts, invites};
  shardlyn::WorkloadArea workload_area{workloads, instances, node_versions};
  shardlyn::InstanceArea instance_area{instances};
  shardlyn::AgentStateArea agent_state_area{instances, node_versions};
  shardlyn::ConsoleArea console_area{access, instances, consoles, console_slots};
  shardlyn::OnNodeArea on_node_area{inventory, containers, terminals};
  shardlyn::GitDeployArea git_deploy_area{git_deploys};
  shardlyn::DeployArea deploy_area{deployments};
};

void setup(common::Service& service) {
  auto settings = shardlyn::read(service.config(), service.data_dir());
  std::string jwt_secret = service.signing_secret("SHARDLYN_JWT_SECRET");
  std::string key32 = service.encryption_key("SHARDLYN_ENCRYPTION_KEY");
  store::Database& db = service.open_database("shardlyn.db", shardlyn_api_migrations(), identity::migrations());
  auto& app = service.make<Shardlyn>(db, std::move(settings), jwt_secret, key32);
  service.limit_class("login", app.settings.login_limit);
  service.limit_class("mfa", app.settings.mfa_limit);
  service.limit_class("support", app.settings.support_limit);
  service.limit_class("agent", app.settings.agent_limit);
  service.limit_class("console", app.settings.console_limit);
  app.access.guard(service);
  service.auth_scheme(std::string(shardlyn::kAgentAuth), [&app](common::Request& req) { app.agents.authenticate(req); });
  service.on_shutdown([&app] {
    app.node_versions.stop();
    app.consoles.stop();
    app.tunnel.stop();
  });
  app.access.add(service, shardlyn::auth_routes(app.auth_area));
  app.access.add(service, shardlyn::user_routes(app.user_area));
  app.access.add(service, shardlyn::api_token_routes(app.api_tokens));
  app.access.add(service, shardlyn::organization_routes(app.org_area));
  app.access.add(service, shardlyn::settings_routes(app.settings_area));
  app.access.add(service, shardlyn::admin_routes(app.admin_area));
  app.access.add(service, shardlyn::page_routes(app.page_area));
  app.access.add(service, shardlyn::node_routes(app.nodes));
  app.access.add(service, shardlyn::on_node_routes(app.on_node_area));
  app.access.add(service, shardlyn::workload_routes(app.workload_area));
  app.access.add(service, shardlyn::instance_routes(app.instance_area));
  app.access.add(service, shardlyn::console_routes(app.console_area));
  app.access.add(service, shardlyn::tunnel_routes(app.tunnel));
  app.access.add(service, shardlyn::ssh_ca_routes(app.ssh_ca));
  app.access.add(service, shardlyn::credential_routes(app.credentials));
  app.access.add(service, shardlyn::git_deploy_routes(app.git_deploy_area));
  app.access.add(service, shardlyn::backup_config_routes(app.backup_configs));
  app.access.add(service, shardlyn::deploy_routes(app.deploy_area));
  // Agent routes carry an AgentCaller, not a Caller: added as they are, guarded by kAgentAuth.
  service.add(shardlyn::agent_node_routes(app.agents));
  for (auto& route : shardlyn::agent_state_routes(app.agent_state_area)) service.add(std::move(route));
  service.add(shardlyn::agent_tunnel_routes(app.tunnel));
  if (auto problems = shardlyn::Access::check_document(service.router().routes(), service.info().openapi_yaml);
      !problems.empty())
    throw common::ConfigError("route guards and the OpenAPI document disagree: " + problems.front() + " (and " +
                              std::to_string(problems.size() - 1) + " more)");
  if (!app.settings.backups.dir.empty())
    service.every("system backup", std::chrono::seconds(app.settings.backups.interval_s),
                  [&app] { app.backups.run(); });
  service.every("instance metrics downsampling", std::chrono::minutes(5),
                [&app] { app.instances.compact_metrics(store::unix_now()); });
  service.every("retry undelivered mail", app.mail.retry_interval(), [&app] { app.mail.deliver_due(); });
  service.every("downsample node metrics", std::chrono::minutes(5), [&app] { app.nodes.downsample_metrics(); });
  service.every("drain deadlines", std::chrono::seconds(5), [&app] { app.nodes.enforce_drain_deadlines(); });
  service.every("deletes on offline nodes", std::chrono::minutes(1),
                [&app] { app.instances.forget_deletes_on_offline_nodes(); });
  service.every("node terminal deadlines", std::chrono::seconds(1), [&app] { app.terminals.tick(); });
  service.every("purge ended sessions", std::chrono::hours(1), [&app] { app.accounts.purge_expired(); });
  // Reset requests a restart interrupted before their background step ran.
  service.every("pending password resets", std::chrono::minutes(1), [&app] { app.accounts.process_reset_requests(); });
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
