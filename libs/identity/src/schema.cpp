#include "identity/schema.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

#include "common/embedded.hpp"

std::span<const common::EmbeddedFile> identity_migration_files();

namespace identity {

namespace {

std::string_view file(std::string_view name) {
  for (const auto& f : identity_migration_files())
    if (f.name == name) return f.data;
  throw std::logic_error("libidentity: migration file " + std::string(name) + " is not embedded");
}

}  // namespace

std::span<const common::LibraryMigration> migrations() {
  // Names are recorded in library_migrations: append new steps, never rename or reorder.
  static const common::LibraryMigration steps[] = {
      {"identity/sessions", file("sessions.sql")},
      {"identity/totp", file("totp.sql")},
      {"identity/mail_tokens", file("mail_tokens.sql")},
      {"identity/mail_queue", file("mail_queue.sql")},
      // ALTER TABLE cannot say IF NOT EXISTS; auth-server's databases got the column from its own
      // migration 0007 before the library owned the table.
      {"identity/mail_queue_owner", file("mail_queue_owner.sql"),
       "SELECT count(*) FROM pragma_table_info('mail_queue') WHERE name = 'user_id'"},
      {"identity/reset_requests", file("reset_requests.sql")},
  };
  return steps;
}

}  // namespace identity
