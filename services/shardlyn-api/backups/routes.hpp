#pragma once
// The backups area's route tables.
#include "backups/backup_configs.hpp"
#include "http/route_table.hpp"

namespace shardlyn {

// Backup Configuration Endpoints.
Routes backup_config_routes(BackupConfigs& configs);

}  // namespace shardlyn
