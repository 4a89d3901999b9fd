#pragma once
// Personal data under the GDPR: consent records, the export of everything held about an
// account, and erasure of an account in one transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "audit.hpp"
#include "billing.hpp"
#include "common/mail.hpp"
#include "identity/sessions.hpp"
#include "store/database.hpp"
#include "tokens.hpp"
#include "totp.hpp"
#include "usage.hpp"

namespace auth {

struct Consents {
  std::optional<std::string> terms_version;
  std::optional<std::int64_t> terms_accepted_at;
  bool marketing = false;
  std::optional<std::int64_t> marketing_updated_at;
};

// Fields of PUT /api/auth/consents; absent ones stay.
struct ConsentChange {
  std::optional<std::string> terms_version;
  std::optional<bool> marketing;
};

// Everything held about an account (credentials, hashes and secrets excepted).
struct PersonalData {
  User user;
  std::vector<std::pair<identity::Session, std::optional<std::int64_t>>> sessions;  // every one, with revoked_at
  TotpStatus two_factor;
  Consents consents;
  std::vector<audit::Entry> audit;
  std::vector<Subscription> subscriptions;
  std::vector<UsageCounter> usage;
};

// Rows erased per table (and "outbox": development mail files removed).
using Erasure = std::vector<std::pair<std::string, std::int64_t>>;

class Privacy {
 public:
  Privacy(store::Database& db, const TwoFactor& two_factor, common::MailQueue& mail);

  Consents consents(const Principal& caller);
  Consents change_consents(const Principal& caller, const ConsentChange& change, const identity::Client& client);
  // Records an export in the audit trail and returns the data.
  PersonalData export_data(const Principal& caller, const identity::Client& client);
  // Checks the password (401 invalid_credentials), refuses the only administrator (409), then
  // erases the account and everything linked to it, keeps its audit entries without personal
  // data (ip and details cleared; the request's ip is not recorded either) and returns the rows removed or cleared per
  // table. Mail files in the development outbox addressed to the account's addresses go too.
  // Slow.
  Erasure delete_account(const Principal& caller, const std::string& password);

 private:
  store::Database& db_;
  const TwoFactor& two_factor_;
  common::MailQueue& mail_;
};

}  // namespace auth
