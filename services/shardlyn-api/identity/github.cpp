#include "identity/github.hpp"

#include <boost/json.hpp>

#include "common/error.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"
#include "identity/users.hpp"
#include "orgs/organizations.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::string_view kStateType = "github_state";
constexpr std::int64_t kStateTtl = 600;

common::ApiError upstream(std::string what) { return common::ApiError(502, "GitHub " + what, "bad_gateway"); }

json::value get_json(const common::OutboundResponse& r, std::string_view what) {
  if (!r.ok())
    throw upstream(std::string(what) + " failed" +
                   (r.error.empty() ? " with status " + std::to_string(r.status) : ": " + r.error));
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec) throw upstream(std::string(what) + " answered with invalid JSON");
  return v;
}

std::string field(const json::value& v, std::string_view name) {
  if (!v.is_object()) return {};
  auto* f = v.as_object().if_contains(name);
  if (!f) return {};
  if (f->is_string()) return std::string(f->as_string());
  if (f->is_int64()) return std::to_string(f->as_int64());
  if (f->is_uint64()) return std::to_string(f->as_uint64());
  return {};
}

}  // namespace

GitHub::GitHub(store::Database& db, const Access& access, Accounts& accounts, GitHubSettings settings)
    : db_(db), access_(access), accounts_(accounts), settings_(std::move(settings)) {}

GitHub::Redirect GitHub::start() const {
  if (settings_.client_id.empty()) throw common::ApiError::not_implemented("SHARDLYN_GITHUB_CLIENT_ID");
  std::string nonce = security::random_token(24);
  std::string state = access_.sign(kStateType, security::sha256_hex(nonce), kStateTtl);
  std::string url = settings_.authorize_url + (settings_.authorize_url.find('?') == std::string::npos ? "?" : "&") +
                    "client_id=" + common::percent_encode(settings_.client_id) +
                    "&scope=" + common::percent_encode("read:user user:email") +
                    "&state=" + common::percent_encode(state);
  if (!settings_.redirect_url.empty()) url += "&redirect_uri=" + common::percent_encode(settings_.redirect_url);
  return {std::move(url), std::move(nonce)};
}

void GitHub::spend_state(std::string_view state, std::string_view cookie_nonce) {
  auto bound = access_.verify_signed(kStateType, state);
  if (!bound || bound->id.empty() || cookie_nonce.empty() ||
      !security::constant_time_equal(bound->subject, security::sha256_hex(cookie_nonce)))
    throw common::ApiError::bad_request("invalid or expired OAuth state");
  bool fresh = db_.write([&](store::Connection& db) {
    if (db.query_int("SELECT 1 FROM used_challenges WHERE id = ?", bound->id)) return false;
    db.execute("INSERT INTO used_challenges (id, expires_at) VALUES (?, ?)", bound->id, bound->expires_at);
    return true;
  });
  if (!fresh) throw common::ApiError::bad_request("invalid or expired OAuth state: it was used already");
}

GitHubOutcome GitHub::finish(std::string_view code, std::string_view state, std::string_view cookie_nonce,
                             const audit::Actor& from, std::string_view user_agent) {
  if (settings_.client_id.empty()) throw common::ApiError::not_implemented("SHARDLYN_GITHUB_CLIENT_ID");
  spend_state(state, cookie_nonce);

  common::OutboundRequest exchange{.method = "POST", .url = settings_.token_url};
  exchange.headers = {{"Accept", "application/json"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  exchange.body = "client_id=" + common::percent_encode(settings_.client_id) +
                  "&client_secret=" + common::percent_encode(settings_.client_secret) +
                  "&code=" + common::percent_encode(code);
  if (!settings_.redirect_url.empty())
    exchange.body += "&redirect_uri=" + common::percent_encode(settings_.redirect_url);
  auto token_body = get_json(common::send(exchange), "token exchange");
  std::string access_token = field(token_body, "access_token");
  if (access_token.empty()) {
    std::string error = field(token_body, "error");
    throw common::ApiError::unauthorized("GitHub refused the authorization code" + (error.empty() ? "" : ": " + error));
  }

  auto api = [&](std::string_view path) {
    common::OutboundRequest r{.url = settings_.api_url + std::string(path)};
    r.headers = {{"Accept", "application/vnd.github+json"},
                 {"Authorization", "Bearer " + access_token},
                 {"User-Agent", "shardlyn-api"}};
    return get_json(common::send(r), "API call " + std::string(path));
  };
  auto profile = api("/user");
  std::string github_id = field(profile, "id");
  if (github_id.empty()) throw upstream("user has no id");
  std::string login = field(profile, "login");
  std::string name = field(profile, "name");
  if (name.empty()) name = login.empty() ? "GitHub user" : login;
  std::string email;
  auto emails = api("/user/emails");
  if (emails.is_array())
    for (const auto& e : emails.as_array())
      if (e.is_object() && e.as_object().if_contains("primary") && e.at("primary") == true &&
          e.as_object().if_contains("verified") && e.at("verified") == true)
        email = field(e, "email");
  for (auto& ch : email) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));

  // The account linked to this GitHub id; else, for an address no account uses, a new account
  // (GitHub verified the address); else the account that has the address, which is never linked
  // without its password holder's confirmation (pre-registration takeover).
  std::optional<User> existing;
  auto user = db_.write([&](store::Connection& db) -> std::optional<User> {
    if (auto linked = users::find_by_github(db, github_id)) return *linked;
    if (email.empty()) throw common::ApiError::bad_request("the GitHub account has no verified primary email address");
    existing = users::find_by_email(db, email);
    if (existing) return std::nullopt;
    auto created = users::create(db, email, name.substr(0, 100), "", false);
    if (!created) throw common::ApiError::conflict("the address was registered meanwhile; sign in with GitHub again");
    users::link_github(db, created->id, github_id);
    users::mark_verified(db, created->id);
    organizations::create(db, name.substr(0, 80) + "'s organization", created->id);
    audit::record(db, "auth.register", {created->id, {}, from.ip}, {}, created->id,
                  {{"via", "github"}, {"login", login}});
    return *users::find(db, created->id);
  });
  if (!user) return {{}, accounts_.offer_github_link(*existing, github_id, login, from)};
  return {accounts_.sign_in(*user, from, user_agent), {}};
}

}  // namespace shardlyn
