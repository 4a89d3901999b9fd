#include "fleet_auth.hpp"

#include <boost/asio/ip/address.hpp>

#include "common/error.hpp"
#include "security/digest.hpp"

namespace manager {

namespace {

bool loopback(const std::string& ip) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(ip, ec);
  return !ec && address.is_loopback();
}

}  // namespace

void install_fleet_auth(common::Service& service, std::optional<std::string> fleet_token, Agents& agents) {
  // True when the request carries the fleet token, or comes from loopback with none configured.
  auto fleet = [fleet_token](const common::Request& req) {
    if (!fleet_token) return loopback(req.client_ip);
    auto presented = req.bearer_token();
    return presented && security::constant_time_equal(*presented, *fleet_token);
  };

  service.auth_scheme("fleet", [fleet](common::Request& req) {
    if (!fleet(req)) throw common::ApiError::unauthorized("missing or invalid fleet token");
    req.rate_key = "fleet";
  });

  service.auth_scheme("fleet_stream", [fleet, fleet_token](common::Request& req) {
    if (fleet(req)) return;
    auto query = req.query_param("token");
    if (fleet_token && query && security::constant_time_equal(*query, *fleet_token)) return;
    throw common::ApiError::unauthorized("missing or invalid fleet token");
  });

  service.auth_scheme("agent", [fleet, &agents](common::Request& req) {
    std::string id(req.param("id"));
    if (fleet(req)) {
      req.rate_key = "fleet";
      return;
    }
    auto presented = req.bearer_token();
    if (!presented || !agents.token_matches(id, *presented))
      throw common::ApiError::unauthorized("missing or invalid agent token");
    req.rate_key = "agent:" + id;
  });
}

}  // namespace manager
