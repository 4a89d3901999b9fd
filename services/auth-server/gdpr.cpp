#include "gdpr.hpp"

#include "audit.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "security/password.hpp"
#include "store/time.hpp"
#include "users.hpp"

namespace auth {

namespace {

constexpr std::string_view kConsents =
    "SELECT terms_version, terms_accepted_at, marketing, marketing_updated_at FROM consents WHERE user_id = ?";
constexpr std::string_view kSetTerms =
    "INSERT INTO consents (user_id, terms_version, terms_accepted_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (user_id) DO UPDATE SET terms_version = ?2, terms_accepted_at = ?3";
constexpr std::string_view kSetMarketing =
    "INSERT INTO consents (user_id, marketing, marketing_updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (user_id) DO UPDATE SET marketing = ?2, marketing_updated_at = ?3";
constexpr std::string_view kAllSessions =
    "SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at, revoked_at FROM sessions "
    "WHERE user_id = ? ORDER BY created_at DESC, rowid DESC";
constexpr std::string_view kAudit =
    "SELECT id, at, action, user_id, actor_id, ip, detail FROM audit_log WHERE user_id = ? OR actor_id = ? "
    "ORDER BY seq";
constexpr std::string_view kOtherAdmins = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND id != ?";
constexpr std::string_view kMailedAddresses = "SELECT DISTINCT recipient FROM mail_queue WHERE user_id = ?";
constexpr std::string_view kScrubAudit =
    "UPDATE audit_log SET ip = '', detail = '{}' WHERE (user_id = ?1 OR actor_id = ?1) AND (ip != '' OR detail != "
    "'{}')";

// Erasure order: children first, the account last (foreign keys would cascade, but the
// answer names every table touched).
constexpr std::pair<const char*, std::string_view> kErase[] = {
    {"backup_codes", "DELETE FROM backup_codes WHERE user_id = ?"},
    {"usage_counters", "DELETE FROM usage_counters WHERE user_id = ?"},
    // Provider events stay (a replay must still change nothing) without the links to the person.
    {"billing_events", "UPDATE billing_events SET user_id = NULL, subscription_id = NULL WHERE user_id = ?"},
    {"subscriptions", "DELETE FROM subscriptions WHERE user_id = ?"},
    {"totp", "DELETE FROM totp WHERE user_id = ?"},
    {"consents", "DELETE FROM consents WHERE user_id = ?"},
    {"mail_tokens", "DELETE FROM mail_tokens WHERE user_id = ?"},
    // A reset asked for but not yet handled holds an address and a client address.
    {"reset_requests",
     "DELETE FROM reset_requests WHERE email = (SELECT email FROM users WHERE id = ?1) OR email IN (SELECT recipient "
     "FROM mail_queue WHERE user_id = ?1)"},
    {"mail_queue", "DELETE FROM mail_queue WHERE user_id = ?1 OR recipient = (SELECT email FROM users WHERE id = ?1)"},
    {"retired_refresh_tokens",
     "DELETE FROM retired_refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?)"},
    {"sessions", "DELETE FROM sessions WHERE user_id = ?"},
    {"users", "DELETE FROM users WHERE id = ?"},
};

Consents read_consents(store::Connection& db, std::string_view user_id) {
  Consents c;
  auto q = db.prepare(kConsents);
  q->bind_all(user_id);
  if (q->step()) c = {q->text_or_null(0), q->int64_or_null(1), q->int64(2) != 0, q->int64_or_null(3)};
  return c;
}

}  // namespace

Privacy::Privacy(store::Database& db, const TwoFactor& two_factor, common::MailQueue& mail)
    : db_(db), two_factor_(two_factor), mail_(mail) {}

Consents Privacy::consents(const Principal& caller) {
  return db_.read([&](store::Connection& c) { return read_consents(c, caller.user_id); });
}

Consents Privacy::change_consents(const Principal& caller, const ConsentChange& change,
                                  const identity::Client& client) {
  return db_.write([&](store::Connection& c) {
    std::int64_t now = store::unix_now();
    Consents before = read_consents(c, caller.user_id);
    boost::json::object detail;
    if (change.terms_version) {
      c.execute(kSetTerms, caller.user_id, *change.terms_version, now);
      detail["termsVersion"] = *change.terms_version;
    }
    if (change.marketing && *change.marketing != before.marketing) {
      c.execute(kSetMarketing, caller.user_id, *change.marketing, now);
      detail["marketing"] = *change.marketing;
    }
    if (!detail.empty()) audit::record(c, audit::kConsentChanged, caller.user_id, client.ip, detail);
    return read_consents(c, caller.user_id);
  });
}

PersonalData Privacy::export_data(const Principal& caller, const identity::Client& client) {
  PersonalData data = db_.read([&](store::Connection& c) {
    auto user = users::by_id(c, caller.user_id);
    if (!user) throw common::ApiError::unauthorized("account no longer exists");
    PersonalData d{*user, {}, two_factor_.status_of(c, caller.user_id), read_consents(c, caller.user_id), {}};
    {
      auto q = c.prepare(kAllSessions);
      q->bind_all(caller.user_id);
      while (q->step())
        d.sessions.push_back(
            {identity::Session{q->text(0), q->text(1), q->text(2), q->text(3), q->int64(4), q->int64(5), q->int64(6)},
             q->int64_or_null(7)});
    }
    auto q = c.prepare(kAudit);
    q->bind_all(caller.user_id, caller.user_id);
    while (q->step())
      d.audit.push_back(
          {q->text(0), q->int64(1), q->text(2), q->text_or_null(3), q->text_or_null(4), q->text(5), q->text(6)});
    d.subscriptions = billing::of_user(c, caller.user_id);
    d.usage = usage::counters_of(c, caller.user_id);
    return d;
  });
  db_.write([&](store::Connection& c) { audit::record(c, audit::kDataExported, caller.user_id, client.ip); });
  return data;
}

Erasure Privacy::delete_account(const Principal& caller, const std::string& password) {
  auto user = db_.read([&](store::Connection& c) { return users::by_id(c, caller.user_id); });
  if (!user) throw common::ApiError::unauthorized("account no longer exists");
  if (!security::password_verify(password, user->password_hash))
    throw common::ApiError(401, "password is incorrect", "invalid_credentials");
  std::vector<std::string> addresses{user->email};
  Erasure result = db_.write([&](store::Connection& c) {
    if (user->role == "admin" && c.query_int(kOtherAdmins, user->id).value_or(0) == 0)
      throw common::ApiError::conflict("the only administrator cannot delete their account");
    Erasure erased;
    // Every address the account was mailed at (earlier ones too), before its queue rows go.
    auto q = c.prepare(kMailedAddresses);
    q->bind_all(user->id);
    while (q->step()) addresses.push_back(q->text(0));
    for (const auto& [table, sql] : kErase) erased.emplace_back(table, c.execute(sql, user->id));
    erased.emplace_back("audit_log", c.execute(kScrubAudit, user->id));
    // The trail keeps that an account was erased, under its (now meaningless) id only.
    audit::record(c, audit::kAccountDeleted, user->id, "");
    return erased;
  });
  result.emplace_back("outbox", static_cast<std::int64_t>(mail_.forget_outbox(addresses)));
  // The write-ahead log still holds the pages as they were before the erasure: copy the
  // zeroed pages into the database and empty the log.
  try {
    db_.checkpoint();
  } catch (const std::exception& e) {
    common::log::warn("checkpoint after an account erasure failed; the next one copies it", {{"error", e.what()}});
  }
  return result;
}

}  // namespace auth
