#pragma once
// TOTP two-factor authentication of Panguard accounts: the use cases behind /api/auth/totp
// (password checks and audit entries) over identity::TotpStore, which keeps the sealed
// secrets, replay protection and backup codes.
#include <string>
#include <string_view>

#include "identity/sessions.hpp"
#include "identity/totp_store.hpp"
#include "store/database.hpp"
#include "tokens.hpp"

namespace auth {

using TotpSetup = identity::TotpEnrolment;
using TotpStatus = identity::TotpStatus;

class TwoFactor {
 public:
  // key32: the raw 32-byte TOTP_ENCRYPTION_KEY.
  TwoFactor(store::Database& db, std::string key32);

  // Starts (or restarts) setup after checking the password: 401 invalid_credentials, 409 when
  // already enabled. Slow (password hash): call off the I/O threads.
  TotpSetup setup(const Principal& caller, const std::string& password, const identity::Client& client);
  // Enables two-factor with a first code: 409 without a pending setup, 400 invalid_code.
  void confirm(const Principal& caller, const std::string& code, const identity::Client& client);
  // Turns it off after checking the password and a code (TOTP or backup): 409 when not
  // enabled, 401 invalid_credentials otherwise. Slow.
  void disable(const Principal& caller, const std::string& password, const std::string& code,
               const identity::Client& client);
  TotpStatus status(const Principal& caller);

  // Inside a transaction:
  TotpStatus status_of(store::Connection& db, std::string_view user_id) const { return store_.status(db, user_id); }
  bool enabled(store::Connection& db, std::string_view user_id) const { return store_.enabled(db, user_id); }
  bool use_code(store::Connection& db, std::string_view user_id, std::string_view code) const {
    return store_.use_code(db, user_id, code);
  }
  bool use_backup_code(store::Connection& db, std::string_view user_id, std::string_view code) const {
    return store_.use_backup_code(db, user_id, code);
  }

 private:
  store::Database& db_;
  identity::TotpStore store_;
};

}  // namespace auth
