#pragma once
// GitHub sign-in: the OAuth authorization-code flow with a signed `state` bound to a cookie.
// Every endpoint is configurable (SHARDLYN_GITHUB_*), so tests can point them at a local server.
#include <optional>
#include <string>
#include <string_view>

#include "http/access.hpp"
#include "identity/accounts.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct GitHubSettings {
  std::string client_id;  // "" = GitHub sign-in not configured (501)
  std::string client_secret;
  std::string authorize_url = "https://github.com/login/oauth/authorize";
  std::string token_url = "https://github.com/login/oauth/access_token";
  std::string api_url = "https://api.github.com";
  std::string redirect_url;  // our callback as GitHub should call it ("" = none sent)
};

// Where a GitHub sign-in ended: tokens or an MFA challenge, or (link_token set) an existing
// account whose password holder has to confirm the link first.
struct GitHubOutcome {
  LoginResult login;
  std::string link_token;
};

class GitHub {
 public:
  static constexpr const char* kCookie = "shardlyn_oauth_state";

  GitHub(store::Database& db, const Access& access, Accounts& accounts, GitHubSettings settings);

  struct Redirect {
    std::string location;
    std::string nonce;  // goes into the cookie
  };
  // Where to send the browser, with a fresh state. 501 when not configured.
  Redirect start() const;
  // Checks state against the cookie's nonce and spends it (single use), exchanges the code,
  // reads the GitHub user and signs in the account linked to that GitHub id, else creates one
  // for its verified address; an address that has an account already asks for the link to be
  // confirmed with that account's password (Accounts::confirm_github_link).
  GitHubOutcome finish(std::string_view code, std::string_view state, std::string_view cookie_nonce, const audit::Actor& from,
                std::string_view user_agent);

 private:
  // 400 unless the state is ours, unexpired, bound to the browser's cookie and not used before.
  void spend_state(std::string_view state, std::string_view cookie_nonce);

  store::Database& db_;
  const Access& access_;
  Accounts& accounts_;
  GitHubSettings settings_;
};

}  // namespace shardlyn
