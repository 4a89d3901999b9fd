#pragma once
// TOTP two-factor authentication: setup with backup codes, confirmation, checks at login,
// disabling. Secrets are sealed with AES-256-GCM; a code's time step is remembered so no code
// is accepted twice; backup codes are single use and stored as keyed digests.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sessions.hpp"
#include "store/database.hpp"
#include "tokens.hpp"

namespace auth {

struct TotpSetup {
  std::string secret;       // base32, for manual entry
  std::string otpauth_uri;  // for QR codes
  std::vector<std::string> backup_codes;
};

struct TotpStatus {
  bool enabled = false;
  std::int64_t backup_codes_remaining = 0;
};

class TwoFactor {
 public:
  static constexpr int kBackupCodes = 10;

  // key32: the raw 32-byte TOTP_ENCRYPTION_KEY.
  TwoFactor(store::Database& db, std::string key32);

  // Starts (or restarts) setup after checking the password: 401 invalid_credentials, 409 when
  // already enabled. Slow (password hash): call off the I/O threads.
  TotpSetup setup(const Principal& caller, const std::string& password, const Client& client);
  // Enables two-factor with a first code: 409 without a pending setup, 400 invalid_code.
  void confirm(const Principal& caller, const std::string& code, const Client& client);
  // Turns it off after checking the password and a code (TOTP or backup): 409 when not
  // enabled, 401 invalid_credentials otherwise. Slow.
  void disable(const Principal& caller, const std::string& password, const std::string& code, const Client& client);
  TotpStatus status(const Principal& caller);

  // Inside a transaction:
  TotpStatus status_of(store::Connection& db, std::string_view user_id) const;
  bool enabled(store::Connection& db, std::string_view user_id) const;
  // Accepts a current TOTP code whose step is newer than the last accepted one (and records it).
  bool use_code(store::Connection& db, std::string_view user_id, std::string_view code) const;
  // Accepts and spends an unused backup code.
  bool use_backup_code(store::Connection& db, std::string_view user_id, std::string_view code) const;

 private:
  std::optional<std::string> secret_of(store::Connection& db, std::string_view user_id, bool enabled_only) const;
  std::string backup_digest(std::string_view user_id, std::string_view code) const;

  store::Database& db_;
  std::string key_;
  std::string backup_key_;
};

}  // namespace auth
