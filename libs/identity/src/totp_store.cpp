#include "identity/totp_store.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/error.hpp"
#include "security/aead.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"
#include "security/totp.hpp"
#include "store/time.hpp"

namespace identity {

namespace {

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

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "abcde-fghij": 10 characters of the base32 alphabet (50 bits).
std::string new_backup_code() {
  std::string s = lower(security::base32_encode(security::random_bytes(10)).substr(0, 10));
  return s.substr(0, 5) + "-" + s.substr(5);
}

std::string normalise_backup_code(std::string_view code) {
  std::string out;
  for (char c : code)
    if (c != '-' && c != ' ') out += c;
  return lower(out);
}

}  // namespace

TotpStore::TotpStore(std::string key32, std::string issuer) : key_(std::move(key32)), issuer_(std::move(issuer)) {
  if (key_.size() != 32) throw std::invalid_argument("the TOTP encryption key must have 32 bytes");
  backup_key_ = security::hmac_sha256(key_, lower(issuer_) + " backup codes");
}

std::string TotpStore::backup_digest(std::string_view user_id, std::string_view code) const {
  return security::hmac_sha256_hex(backup_key_, std::string(user_id) + ":" + normalise_backup_code(code));
}

std::optional<std::string> TotpStore::secret_of(store::Connection& db, std::string_view user_id,
                                                bool enabled_only) const {
  auto q = db.prepare(kSecret);
  q->bind_all(user_id);
  if (!q->step()) return std::nullopt;
  if (enabled_only && q->int64(1) == 0) return std::nullopt;
  auto secret = security::aead_open(key_, q->blob(0), user_id);
  if (!secret) throw std::runtime_error("TOTP secret cannot be opened (was the encryption key changed?)");
  return secret;
}

TotpEnrolment TotpStore::begin(store::Connection& db, std::string_view user_id, std::string_view account) const {
  if (enabled(db, user_id)) throw common::ApiError::conflict("two-factor authentication is already enabled");
  std::string secret = security::random_bytes(20);
  TotpEnrolment out;
  out.secret = security::base32_encode(secret);
  out.otpauth_uri = security::otpauth_uri(issuer_, std::string(account), out.secret);
  db.execute(kUpsert, user_id, store::Blob{security::aead_seal(key_, secret, user_id)}, store::unix_now());
  db.execute(kDeleteCodes, user_id);
  for (int i = 0; i < kBackupCodes; ++i) {
    out.backup_codes.push_back(new_backup_code());
    db.execute(kInsertCode, user_id, backup_digest(user_id, out.backup_codes.back()));
  }
  return out;
}

bool TotpStore::confirm(store::Connection& db, std::string_view user_id, std::string_view code) const {
  auto state = db.query_int(kEnabled, user_id);
  if (!state) throw common::ApiError::conflict("no two-factor enrolment in progress; start the setup first");
  if (*state == 1) throw common::ApiError::conflict("two-factor authentication is already enabled");
  auto secret = secret_of(db, user_id, false);
  auto step = security::totp_match(*secret, code, store::unix_now());
  if (!step) return false;
  db.execute(kAdvanceStep, *step, user_id, *step);
  db.execute(kEnable, store::unix_now(), user_id);
  return true;
}

void TotpStore::remove(store::Connection& db, std::string_view user_id) const {
  db.execute(kDelete, user_id);
  db.execute(kDeleteCodes, user_id);
}

bool TotpStore::enabled(store::Connection& db, std::string_view user_id) const {
  return db.query_int(kEnabled, user_id).value_or(0) == 1;
}

TotpStatus TotpStore::status(store::Connection& db, std::string_view user_id) const {
  TotpStatus s;
  s.enabled = enabled(db, user_id);
  if (s.enabled) s.backup_codes_remaining = db.query_int(kCodesLeft, user_id).value_or(0);
  return s;
}

bool TotpStore::use_code(store::Connection& db, std::string_view user_id, std::string_view code) const {
  auto secret = secret_of(db, user_id, true);
  if (!secret) return false;
  auto step = security::totp_match(*secret, code, store::unix_now());
  // Only a step newer than the last accepted one counts: a code cannot be replayed.
  return step && db.execute(kAdvanceStep, *step, user_id, *step) == 1;
}

bool TotpStore::use_backup_code(store::Connection& db, std::string_view user_id, std::string_view code) const {
  if (!enabled(db, user_id)) return false;
  return db.execute(kUseCode, store::unix_now(), user_id, backup_digest(user_id, code)) == 1;
}

}  // namespace identity
