#include "totp.hpp"

#include "audit.hpp"
#include "common/error.hpp"
#include "security/password.hpp"
#include "users.hpp"

namespace auth {

namespace {

constexpr const char* kIssuerLabel = "Panguard";

// The caller's account after checking their password (401 when wrong).
User check_password(store::Connection& db, const Principal& caller, const std::string& password) {
  auto user = users::by_id(db, caller.user_id);
  if (!user) throw common::ApiError::unauthorized("account no longer exists");
  if (!security::password_verify(password, user->password_hash))
    throw common::ApiError(401, "password is incorrect", "invalid_credentials");
  return *user;
}

}  // namespace

TwoFactor::TwoFactor(store::Database& db, std::string key32) : db_(db), store_(std::move(key32), kIssuerLabel) {}

TotpSetup TwoFactor::setup(const Principal& caller, const std::string& password, const identity::Client& client) {
  User user = db_.read([&](store::Connection& c) { return check_password(c, caller, password); });
  return db_.write([&](store::Connection& c) {
    TotpSetup out = store_.begin(c, caller.user_id, user.email);
    audit::record(c, audit::kTotpSetupStarted, caller.user_id, client.ip);
    return out;
  });
}

void TwoFactor::confirm(const Principal& caller, const std::string& code, const identity::Client& client) {
  bool ok = db_.write([&](store::Connection& c) {
    if (!store_.confirm(c, caller.user_id, code)) return false;
    audit::record(c, audit::kTotpEnabled, caller.user_id, client.ip);
    return true;
  });
  if (!ok) throw common::ApiError(400, "invalid two-factor code", "invalid_code");
}

void TwoFactor::disable(const Principal& caller, const std::string& password, const std::string& code,
                        const identity::Client& client) {
  db_.read([&](store::Connection& c) {
    if (!store_.enabled(c, caller.user_id))
      throw common::ApiError::conflict("two-factor authentication is not enabled");
    check_password(c, caller, password);
  });
  bool ok = db_.write([&](store::Connection& c) {
    if (!store_.use_any(c, caller.user_id, code)) return false;
    store_.remove(c, caller.user_id);
    audit::record(c, audit::kTotpDisabled, caller.user_id, client.ip);
    return true;
  });
  if (!ok) throw common::ApiError(401, "invalid two-factor code", "invalid_code");
}

TotpStatus TwoFactor::status(const Principal& caller) {
  return db_.read([&](store::Connection& c) { return store_.status(c, caller.user_id); });
}

}  // namespace auth
