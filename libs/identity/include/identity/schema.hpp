#pragma once
// The tables libidentity owns (sessions, TOTP, mail tokens, the mail queue, deferred reset
// requests), applied by common::Service::open_database after the service's own migrations:
//   service.open_database("auth.db", auth_server_migrations(), identity::migrations());
// The service keeps its users table (referenced as users (id)), its ids and its audit log.
#include <span>

#include "common/library_schema.hpp"

namespace identity {

std::span<const common::LibraryMigration> migrations();

}  // namespace identity
