#pragma once
// TOTP two-factor state of accounts: enrolment with backup codes, confirmation, checks at
// sign-in, removal. Secrets are sealed with AES-256-GCM (the user id as associated data); the
// newest accepted time step is remembered so no code works twice; backup codes are single use
// and stored as HMAC digests under a key derived from the encryption key.
//
// Tables the service's migrations must create:
//   CREATE TABLE totp (
//     user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
//     secret_sealed BLOB NOT NULL, enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
//     last_step INTEGER NOT NULL DEFAULT -1, created_at INTEGER NOT NULL, enabled_at INTEGER) STRICT;
//   CREATE TABLE backup_codes (
//     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE, code_hash TEXT NOT NULL,
//     used_at INTEGER, PRIMARY KEY (user_id, code_hash)) STRICT;
// Every function runs on a connection inside the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/connection.hpp"

namespace identity {

struct TotpEnrolment {
  std::string secret;       // base32, for manual entry
  std::string otpauth_uri;  // for QR codes
  std::vector<std::string> backup_codes;
};

struct TotpStatus {
  bool enabled = false;
  std::int64_t backup_codes_remaining = 0;
};

class TotpStore {
 public:
  static constexpr int kBackupCodes = 10;

  // key32: the raw 32-byte encryption key; issuer: the label authenticator apps show.
  // Throws std::invalid_argument unless the key has 32 bytes.
  TotpStore(std::string key32, std::string issuer);

  // Starts (or restarts) enrolment for an account that does not have two-factor on yet (409
  // ApiError when it has): a new secret and a new set of backup codes, none active until
  // confirm(). `account` is the name shown in the app, usually the email address.
  TotpEnrolment begin(store::Connection& db, std::string_view user_id, std::string_view account) const;
  // Turns two-factor on with a first valid code. 409 ApiError without a pending enrolment or
  // when already on; false (nothing changed) when the code is wrong.
  bool confirm(store::Connection& db, std::string_view user_id, std::string_view code) const;
  // Removes the secret and every backup code.
  void remove(store::Connection& db, std::string_view user_id) const;

  bool enabled(store::Connection& db, std::string_view user_id) const;
  TotpStatus status(store::Connection& db, std::string_view user_id) const;
  // Accepts a current code (+-1 step) newer than the last accepted one and records its step.
  bool use_code(store::Connection& db, std::string_view user_id, std::string_view code) const;
  // Accepts and spends an unused backup code (case, spaces and dashes do not matter).
  bool use_backup_code(store::Connection& db, std::string_view user_id, std::string_view code) const;
  // Either of the two.
  bool use_any(store::Connection& db, std::string_view user_id, std::string_view code) const {
    return use_code(db, user_id, code) || use_backup_code(db, user_id, code);
  }

 private:
  std::optional<std::string> secret_of(store::Connection& db, std::string_view user_id, bool enabled_only) const;
  std::string backup_digest(std::string_view user_id, std::string_view code) const;

  std::string key_;
  std::string issuer_;
  std::string backup_key_;
};

}  // namespace identity
