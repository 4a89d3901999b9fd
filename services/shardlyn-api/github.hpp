#pragma once
// GitHub sign-in: the OAuth authorization-code flow with a signed `state` bound to a cookie.
// Every endpoint is configurable (SHARDLYN_GITHUB_*), so tests can point them at a local server.
#include <optional>
#include <string>
#include <string_view>

#include "access.hpp"
#include "accounts.hpp"
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
  // Checks state against the cookie's nonce, exchanges the code, reads the GitHub user and
  // signs in the matching account (linked by GitHub id, else by verified email, else new).
  SignIn finish(std::string_view code, std::string_view state, std::string_view cookie_nonce, const audit::Actor& from,
                std::string_view user_agent);

 private:
  store::Database& db_;
  const Access& access_;
  Accounts& accounts_;
  GitHubSettings settings_;
};

}  // namespace shardlyn
