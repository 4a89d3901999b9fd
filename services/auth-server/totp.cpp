#include "totp.hpp"

#include <algorithm>
#include <cctype>

#include "audit.hpp"
#include "common/error.hpp"
#include "security/aead.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/password.hpp"
#include "security/random.hpp"
#include "security/totp.hpp"
#include "store/time.hpp"
#include "users.hpp"

namespace auth {

namespace {

constexpr const char* kIssuerLabel = "Panguard";
constexpr std::string_view kSecret = "SELECT secret_sealed, enabled FROM totp WHERE user_id = ?";
constexpr std::string_view kEnabled = "SELECT enabled FROM totp WHERE user_id = ?";
constexpr std::string_view kUpsert =
    "INSERT INTO totp (user_id, secret_sealed, enabled, last_step, created_at) VALUES (?, ?, 0, -1, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, enabled = 0, last_step = -1, "
    "created_at = excluded.created_at, enabled_at = NULL";
constexpr std::string_view kAdvanceStep = "UPDATE totp SET last_step = ? WHERE user_id = ? AND last_step < ?";
constexpr std::string_view kEnable = "UPDATE totp SET enabled = 1, enabled_at = ? WHERE user_id = ?";
constexpr std::string_view kDelete = "DELETE FROM totp WHERE user_id = ?";
constexpr std::string_view kDeleteCodes = "DELETE FROM backup_codes WHERE user_id = ?";
constexpr std::string_view kInsertCode = "INSERT INTO backup_codes (user_id, code_hash) VALUES (?, ?)";
constexpr std::string_view kUseCode =
    "UPDATE backup_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL";
constexpr std::string_view kCodesLeft = "SELECT COUNT(*) FROM backup_codes WHERE user_id = ? AND used_at IS NULL";

// "abcde-fghij": 10 characters of the base32 alphabet (50 bits).
std::string new_backup_code() {
  std::string s = security::base32_encode(security::random_bytes(10)).substr(0, 10);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s.substr(0, 5) + "-" + s.substr(5);
}

// Case, spaces and dashes do not matter when typing a backup code.
std::string normalise_backup_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void check_password(store::Connection& db, const Principal& caller, const std::string& password, std::string* email) {
  auto user = users::by_id(db, caller.user_id);
  if (!user) throw common::ApiError::unauthorized("account no longer exists");
  if (email) *email = user->email;
  if (!security::password_verify(password, user->password_hash))
    throw common::ApiError(401, "password is incorrect", "invalid_credentials");
}

}  // namespace

TwoFactor::TwoFactor(store::Database& db, std::string key32)
    : db_(db), key_(std::move(key32)), backup_key_(security::hmac_sha256(key_, "panguard backup codes")) {}

std::string TwoFactor::backup_digest(std::string_view user_id, std::string_view code) const {
  return security::hmac_sha256_hex(backup_key_, std::string(user_id) + ":" + normalise_backup_code(code));
}

std::optional<std::string> TwoFactor::secret_of(store::Connection& db, std::string_view user_id,
                                                bool enabled_only) const {
  auto q = db.prepare(kSecret);
  q->bind_all(user_id);
  if (!q->step()) return std::nullopt;
  if (enabled_only && q->int64(1) == 0) return std::nullopt;
  auto secret = security::aead_open(key_, q->blob(0), user_id);
  if (!secret) throw std::runtime_error("TOTP secret cannot be opened (TOTP_ENCRYPTION_KEY changed?)");
  return secret;
}

bool TwoFactor::enabled(store::Connection& db, std::string_view user_id) const {
  return db.query_int(kEnabled, user_id).value_or(0) == 1;
}

bool TwoFactor::use_code(store::Connection& db, std::string_view user_id, std::string_view code) const {
  auto secret = secret_of(db, user_id, true);
  if (!secret) return false;
  auto step = security::totp_match(*secret, code, store::unix_now());
  // Only a step newer than the last accepted one counts: a code cannot be replayed.
  return step && db.execute(kAdvanceStep, *step, user_id, *step) == 1;
}

bool TwoFactor::use_backup_code(store::Connection& db, std::string_view user_id, std::string_view code) const {
  if (!enabled(db, user_id)) return false;
  return db.execute(kUseCode, store::unix_now(), user_id, backup_digest(user_id, code)) == 1;
}

TotpSetup TwoFactor::setup(const Principal& caller, const std::string& password, const Client& client) {
  std::string email;
  db_.read([&](store::Connection& c) { check_password(c, caller, password, &email); });
  std::string secret = security::random_bytes(20);
  TotpSetup out;
  out.secret = security::base32_encode(secret);
  out.otpauth_uri = security::otpauth_uri(kIssuerLabel, email, out.secret);
  for (int i = 0; i < kBackupCodes; ++i) out.backup_codes.push_back(new_backup_code());
  db_.write([&](store::Connection& c) {
    if (enabled(c, caller.user_id)) throw common::ApiError::conflict("two-factor authentication is already enabled");
    c.execute(kUpsert, caller.user_id, store::Blob{security::aead_seal(key_, secret, caller.user_id)},
              store::unix_now());
    c.execute(kDeleteCodes, caller.user_id);
    for (const auto& code : out.backup_codes)
      c.execute(kInsertCode, caller.user_id, backup_digest(caller.user_id, code));
    audit::record(c, audit::kTotpSetupStarted, caller.user_id, client.ip);
  });
  return out;
}

void TwoFactor::confirm(const Principal& caller, const std::string& code, const Client& client) {
  bool ok = db_.write([&](store::Connection& c) {
    auto q = c.query_int(kEnabled, caller.user_id);
    if (!q) throw common::ApiError::conflict("no two-factor setup in progress; call /api/auth/totp/setup first");
    if (*q == 1) throw common::ApiError::conflict("two-factor authentication is already enabled");
    auto secret = secret_of(c, caller.user_id, false);
    auto step = security::totp_match(*secret, code, store::unix_now());
    if (!step) return false;
    c.execute(kAdvanceStep, *step, caller.user_id, *step);
    c.execute(kEnable, store::unix_now(), caller.user_id);
    audit::record(c, audit::kTotpEnabled, caller.user_id, client.ip);
    return true;
  });
  if (!ok) throw common::ApiError(400, "invalid two-factor code", "invalid_code");
}

void TwoFactor::disable(const Principal& caller, const std::string& password, const std::string& code,
                        const Client& client) {
  db_.read([&](store::Connection& c) {
    if (!enabled(c, caller.user_id)) throw common::ApiError::conflict("two-factor authentication is not enabled");
    check_password(c, caller, password, nullptr);
  });
  bool ok = db_.write([&](store::Connection& c) {
    if (!use_code(c, caller.user_id, code) && !use_backup_code(c, caller.user_id, code)) return false;
    c.execute(kDelete, caller.user_id);
    c.execute(kDeleteCodes, caller.user_id);
    audit::record(c, audit::kTotpDisabled, caller.user_id, client.ip);
    return true;
  });
  if (!ok) throw common::ApiError(401, "invalid two-factor code", "invalid_code");
}

TotpStatus TwoFactor::status_of(store::Connection& db, std::string_view user_id) const {
  TotpStatus s;
  s.enabled = enabled(db, user_id);
  if (s.enabled) s.backup_codes_remaining = db.query_int(kCodesLeft, user_id).value_or(0);
  return s;
}

TotpStatus TwoFactor::status(const Principal& caller) {
  return db_.read([&](store::Connection& c) { return status_of(c, caller.user_id); });
}

}  // namespace auth
