#include "fleet_auth.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"

namespace manager {

namespace {

// A valid agent token on a route it may not use is 403; anything else unrecognised is 401.
[[noreturn]] void refuse(Agents& agents, const common::Request& req, std::string_view what, std::string_view wanted) {
  auto presented = req.bearer_token();
  if (presented && agents.owner_of(*presented))
    throw common::ApiError::forbidden("this agent token may not use " + std::string(what));
  throw common::ApiError::unauthorized("missing or invalid " + std::string(wanted));
}

}  // namespace

std::string fleet_token(common::Service& service, const Settings& settings) {
  std::string token = service.secret("MANAGER_AUTH_TOKEN", [] { return "mgr_" + security::random_token(32); });
  if (token.size() < 32) throw common::ConfigError("MANAGER_AUTH_TOKEN must be at least 32 characters");
  if (!settings.fleet_token_configured) {
    // Development only (production requires the variable): the fragment never reaches a server.
    std::string scheme = settings.tls == TlsMode::Off ? "http" : "https";
    std::string host = settings.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    common::log::info("fleet dashboard (signs in with the generated fleet token)",
                      {{"url", scheme + "://" + host + ":" + settings.port + "/dashboard#token=" + token}});
  }
  return token;
}

void install_fleet_auth(common::Service& service, std::string fleet_token, Agents& agents) {
  auto fleet = [fleet_token](const common::Request& req) {
    auto presented = req.bearer_token();
    return presented && security::constant_time_equal(*presented, fleet_token);
  };

  service.auth_scheme("fleet", [fleet, &agents](common::Request& req) {
    if (!fleet(req)) refuse(agents, req, "fleet routes", "fleet token");
    req.rate_key = "fleet";
  });

  service.auth_scheme("fleet_stream", [fleet, fleet_token, &agents](common::Request& req) {
    if (fleet(req)) return;
    auto query = req.query_param("token");
    if (query && security::constant_time_equal(*query, fleet_token)) return;
    refuse(agents, req, "the fleet event stream", "fleet token");
  });

  service.auth_scheme("agent", [fleet, &agents](common::Request& req) {
    std::string id(req.param("id"));
    // Keyed per agent whichever token it uses, so agents behind one address do not share a limit.
    req.rate_key = "agent:" + id;
    if (fleet(req)) return;
    auto presented = req.bearer_token();
    if (presented && agents.token_matches(id, *presented)) return;
    refuse(agents, req, "another agent's routes", "agent token");
  });
}

}  // namespace manager
