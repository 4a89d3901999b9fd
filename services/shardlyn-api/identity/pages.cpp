// The pages the links in mails open (verify an address, reset a password, accept an invite):
// small HTML forms that post back to the same page and complete the action through the same
// domain calls as the API, with no script, so they work in any browser and mail client.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "common/error.hpp"
#include "common/http.hpp"
#include "http/route_table.hpp"
#include "http/shapes.hpp"
#include "identity/routes.hpp"

namespace shardlyn {

namespace {

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

common::Response page(std::string_view title, std::string_view content, int status = 200) {
  std::string html = fmt::format(R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{0} - Shardlyn</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.4rem}}button{{margin-top:1rem;padding:.5rem 1rem}}</style>
</head>
<body>
<h1>{0}</h1>
{1}
</body>
</html>
)",
                                 escape(title), content);
  auto r = common::Response::text(std::move(html), "text/html; charset=utf-8", status);
  r.headers.add("Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  return r;
}

common::Response message(std::string_view title, std::string_view text, int status = 200) {
  return page(title, "<p>" + escape(text) + "</p>", status);
}

// The fields of an application/x-www-form-urlencoded body (415 for another type, 400 malformed).
std::map<std::string, std::string, std::less<>> form(const common::Request& req) {
  auto type = req.headers.get("Content-Type").value_or("");
  if (!type.starts_with("application/x-www-form-urlencoded"))
    throw common::ApiError(415, "Content-Type must be application/x-www-form-urlencoded");
  std::map<std::string, std::string, std::less<>> out;
  std::string_view rest = req.body;
  while (!rest.empty()) {
    auto end = rest.find('&');
    std::string_view pair = rest.substr(0, end);
    auto eq = pair.find('=');
    auto name = common::percent_decode(pair.substr(0, eq), true);
    auto value = common::percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) throw common::ApiError::bad_request("malformed form body");
    out[*name] = *value;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return out;
}

std::string field(const std::map<std::string, std::string, std::less<>>& f, std::string_view name) {
  auto it = f.find(name);
  return it == f.end() ? std::string() : it->second;
}

// A token from the query or the form: URL-safe characters only (ids and tokens are opaque).
std::string page_token(std::string value) {
  bool ok = !value.empty() && value.size() <= 512 && std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~';
  });
  if (!ok) throw common::ApiError::bad_request("the link is incomplete: its token is missing or malformed");
  return value;
}

// Runs `action`; a refusal becomes a page saying why, with the refusal's status.
template <typename F>
common::Response attempt(std::string_view title, F&& action) {
  try {
    return action();
  } catch (const common::ApiError& e) {
    return message(title, e.what(), e.status());
  }
}

std::string hidden_token(std::string_view token) {
  return "<input type=\"hidden\" name=\"token\" value=\"" + escape(token) + "\">";
}

common::Response verify_form(PageArea&, common::Request& req) {
  return attempt("Confirm your address", [&] {
    auto token = page_token(req.query_param("token").value_or(""));
    return page("Confirm your address", "<form method=\"post\" action=\"/verify-email\">" + hidden_token(token) +
                                            "<p>Confirm that this address belongs to your Shardlyn account.</p>"
                                            "<button type=\"submit\">Confirm my address</button></form>");
  });
}

common::Response reset_form(PageArea&, common::Request& req) {
  return attempt("Choose a new password", [&] {
    auto token = page_token(req.query_param("token").value_or(""));
    return page("Choose a new password",
                "<form method=\"post\" action=\"/reset-password\">" + hidden_token(token) +
                    "<label for=\"p\">New password (8 to 128 characters)</label>"
                    "<input id=\"p\" type=\"password\" name=\"new_password\" minlength=\"8\" maxlength=\"128\" "
                    "autocomplete=\"new-password\" required><button type=\"submit\">Set the password</button></form>");
  });
}

std::string invite_form(std::string_view token, std::string_view email, std::string_view note) {
  return (note.empty() ? "" : "<p>" + escape(note) + "</p>") + "<form method=\"post\" action=\"/invites/" +
         escape(token) +
         "\"><p>Sign in with the address the invite was sent to. No account yet? Register with that address "
         "(POST /v1/auth/register), then open this link again.</p>"
         "<label for=\"e\">Email</label><input id=\"e\" type=\"email\" name=\"email\" value=\"" +
         escape(email) +
         "\" autocomplete=\"username\" required>"
         "<label for=\"p\">Password</label><input id=\"p\" type=\"password\" name=\"password\" "
         "autocomplete=\"current-password\" required>"
         "<label for=\"c\">Two-factor code (only if two-factor sign-in is on)</label>"
         "<input id=\"c\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\">"
         "<button type=\"submit\">Sign in and accept</button></form>";
}

// Signs in with the form's password and, when TOTP is on, its code (the same second factor as
// every other way in), accepts the invite, and ends the session it opened for that.
common::Response accept_invite(PageArea& area, common::Request& req) {
  Accounts& accounts = area.accounts;
  std::string token = page_token(std::string(req.param("token")));
  auto f = form(req);
  std::string email = field(f, "email"), password = field(f, "password"), code = field(f, "code");
  return attempt("Accept the invite", [&] {
    if (email.empty() || email.size() > 254 || password.empty() || password.size() > 128)
      return page("Accept the invite", invite_form(token, email, "Enter your email and password."), 400);
    for (auto& ch : email) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto result = accounts.login(email, password, anonymous(req), user_agent(req));
    if (!result.tokens) {
      if (code.empty() || code.size() > 32)
        return page("Accept the invite", invite_form(token, email, "Enter your two-factor code."), 401);
      result.tokens = accounts.complete_challenge(result.challenge_token, code, anonymous(req), user_agent(req));
    }
    Caller caller;
    caller.user_id = result.tokens->user_id;
    caller.session_id = result.tokens->session_id;
    caller.email = email;
    caller.ip = req.client_ip;
    auto joined = attempt("Accept the invite", [&] {
      auto inv = area.invites.accept(caller, token);
      return message("Invite accepted", "You are now a member of the organization (" + inv.org_id + ") as " + inv.role +
                                            ". You can close this page and sign in.");
    });
    accounts.logout(caller);
    return joined;
  });
}

common::Response confirm_address(PageArea& a, common::Request& req) {
  auto token = page_token(field(form(req), "token"));
  return attempt("Confirm your address", [&] {
    a.accounts.verify_email(token, anonymous(req));
    return message("Address confirmed", "Thank you: your address is confirmed. You can close this page.");
  });
}

common::Response reset_password(PageArea& a, common::Request& req) {
  auto f = form(req);
  auto token = page_token(field(f, "token"));
  std::string password = field(f, "new_password");
  return attempt("Choose a new password", [&] {
    if (password.size() < 8 || password.size() > 128)
      throw common::ApiError::validation("the new password must have 8 to 128 characters");
    a.accounts.reset_password(token, password, anonymous(req));
    return message("Password changed",
                   "Your password is changed and every session has ended. Sign in with the new password.");
  });
}

common::Response invite_page(PageArea&, common::Request& req) {
  return attempt("Accept the invite", [&] {
    return page("Accept the invite", invite_form(page_token(std::string(req.param("token"))), "", ""));
  });
}

}  // namespace

Routes page_routes(PageArea& area) {
  const Guard visitor{};
  auto on = [&area](common::Response (*handler)(PageArea&, common::Request&)) { return bind(area, handler); };
  // The forms post form-encoded bodies; a JSON body gets 415 from the handler.
  return group("", visitor,
               {
                   get("/verify-email", "", on(verify_form), {.query = {"token"}}),
                   post("/verify-email", "", on(confirm_address), {.limit = "login", .fields = {"token"}}),
                   get("/reset-password", "", on(reset_form), {.query = {"token"}}),
                   post("/reset-password", "", on(reset_password),
                        {.limit = "login", .fields = {"new_password", "token"}, .offload = true}),
                   get("/invites/{token}", "", on(invite_page)),
                   post("/invites/{token}", "", on(accept_invite),
                        {.limit = "login", .fields = {"code", "email", "password"}, .offload = true}),
               });
}

}  // namespace shardlyn
