#pragma once
// shardlyn-api's settings (decision 0020): the options it declares and one typed record read
// from them, validated, that main hands to the domain. Nothing else reads the configuration.
#include <filesystem>
#include <string>
#include <vector>

#include "admin/org_settings.hpp"
#include "common/config.hpp"
#include "common/limiter.hpp"
#include "common/mail.hpp"
#include "identity/accounts.hpp"
#include "identity/github.hpp"
#include "nodes/nodes.hpp"
#include "orgs/orgs.hpp"
#include "credentials/providers.hpp"
#include "sshca/authority.hpp"

namespace shardlyn {

struct Settings {
  bool integration_api = true;  // accept API tokens
  common::LimitSpec login_limit;
  common::LimitSpec mfa_limit;
  common::LimitSpec support_limit;
  common::LimitSpec agent_limit;
  common::LimitSpec console_limit;        // console and logs WebSocket upgrades
  std::size_t console_max_per_caller = 20;  // open console and logs WebSockets per caller
  AccountSettings accounts;
  InviteSettings invites;
  GitHubSettings github;
  SupportSettings support;
  BackupSettings backups;
  common::MailSettings mail;
  NodeSettings nodes;
  SshCaSettings ssh_ca;
  ProviderSettings providers;
};

// The service's own options (ServiceInfo::options), mail included.
std::vector<common::OptionSpec> options();
// Throws common::ConfigError naming the setting on an invalid value.
Settings read(const common::Config& config, const std::filesystem::path& data_dir);

}  // namespace shardlyn
