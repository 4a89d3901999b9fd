#pragma once
// The cloud providers a credential may be for, the secret fields each takes, and the calls
// `verify` makes to them: Hetzner Cloud (GET /servers?per_page=1 with the token), Cloudflare
// (GET /user/tokens/verify), Steam (a keyed Web API call) and Google Cloud (an RS256 JWT
// assertion of the service account exchanged at its token_uri). AWS and OCI need request
// signing (Signature V4, OCI HTTP signatures) and answer 501 for now.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/http_client.hpp"

namespace shardlyn {

struct ProviderSettings {
  std::string hetzner_api_url = "https://api.hetzner.cloud/v1";
  std::string cloudflare_api_url = "https://api.cloudflare.com/client/v4";
  std::string steam_api_url = "https://api.steampowered.com";
  std::string gcp_token_url = "https://oauth2.googleapis.com/token";
  std::chrono::milliseconds timeout{10000};
  int attempts = 3;                         // tries per call (429 and 5xx are retried)
  std::chrono::milliseconds backoff{250};   // before the second try; doubles each time
};

namespace providers {

// "aws", "gcp", "hetzner", "oci", "cloudflare", "steam".
const std::vector<std::string_view>& names();
bool known(std::string_view provider);
// The provider's secret fields, checked: only its fields, strings, the required ones present
// (a service account JSON of type service_account with client_email, private_key and
// token_uri for gcp). Throws ApiError 400 naming 'secrets.<field>'.
boost::json::object check_secrets(std::string_view provider, const boost::json::object& secrets);
// What list and get show instead of the secret: the last four characters of the main field.
std::string hint(std::string_view provider, const boost::json::object& secrets);

}  // namespace providers

struct VerifyOutcome {
  bool valid = false;
  std::string message;  // the provider's verdict in a few words (never the secret)
};

// Calls a provider with retries: 429, 5xx and transport failures are tried again after a
// backoff (settings.backoff, doubling) up to settings.attempts.
// Throws ApiError 502 (unreachable, still failing) or 504 (timed out) naming the provider.
common::OutboundResponse call_provider(const ProviderSettings& settings, std::string_view provider,
                                       common::OutboundRequest request);

// Asks the provider whether the secrets are accepted: valid false when it refuses them (401,
// 403, an inactive token), 502/504 when it cannot say, 501 for aws and oci.
VerifyOutcome verify_with_provider(const ProviderSettings& settings, std::string_view provider,
                                   const boost::json::object& secrets);

}  // namespace shardlyn
