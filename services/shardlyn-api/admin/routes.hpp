#pragma once
// The administration area's route tables.
#include "admin/administration.hpp"
#include "admin/org_settings.hpp"
#include "admin/users.hpp"
#include "http/route_table.hpp"

namespace shardlyn {

// What the organisation-settings, webhook-token, support and system routes act through.
struct SettingsArea {
  OrganizationSettings& settings;
  WebhookTokens& webhook_tokens;
  Support& support;
  SystemBackups& backups;
};

// Settings, Webhook Token, Support and System Endpoints.
Routes settings_routes(SettingsArea& area);

// What the Admin Endpoints act through.
struct AdminArea {
  Administration& admin;
  Users& users;
};

// Admin Endpoints (platform administration and admin settings).
Routes admin_routes(AdminArea& area);

}  // namespace shardlyn
