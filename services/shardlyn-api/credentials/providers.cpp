#include "credentials/providers.hpp"

#include <algorithm>
#include <thread>

#include <boost/json.hpp>

#include "common/error.hpp"
#include "common/http.hpp"
#include "security/jwt.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

struct Field {
  std::string_view name;
  bool required;
  std::size_t max;
};

struct Provider {
  std::string_view name;
  std::vector<Field> fields;
  std::string_view hint_field;
};

const std::vector<Provider>& catalogue() {
  static const std::vector<Provider> all = {
      {"aws",
       {{"access_key_id", true, 128}, {"secret_access_key", true, 256}, {"session_token", false, 4096},
        {"region", false, 32}},
       "access_key_id"},
      {"gcp", {{"service_account_json", true, 16384}}, "service_account_json"},
      {"hetzner", {{"api_token", true, 256}}, "api_token"},
      {"oci",
       {{"tenancy_ocid", true, 256}, {"user_ocid", true, 256}, {"fingerprint", true, 128},
        {"private_key", true, 16384}, {"region", true, 64}},
       "fingerprint"},
      {"cloudflare", {{"api_token", true, 256}, {"account_id", false, 64}}, "api_token"},
      {"steam", {{"api_key", true, 64}}, "api_key"},
  };
  return all;
}

const Provider& find(std::string_view name) {
  for (const auto& p : catalogue())
    if (p.name == name) return p;
  throw common::ApiError::validation("'provider': one of aws, gcp, hetzner, oci, cloudflare, steam");
}

// A service account key file as Google issues it.
json::object service_account(std::string_view text) {
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  auto bad = [](std::string rule) { return common::ApiError::validation("'secrets.service_account_json': " + rule); };
  if (ec || !doc.is_object()) throw bad("a JSON object (the service account key file)");
  const auto& o = doc.as_object();
  auto str = [&](std::string_view k) {
    const auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (str("type") != "service_account") throw bad("type must be service_account");
  for (std::string_view k : {"client_email", "private_key", "token_uri"})
    if (str(k).empty()) throw bad("needs " + std::string(k));
  return o;
}

std::string text_of(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A JSON answer's object, or an empty one.
json::object body_object(const common::OutboundResponse& r) {
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

VerifyOutcome refused_or_failed(std::string_view provider, const common::OutboundResponse& r) {
  if (r.status == 401 || r.status == 403) return {false, "the provider refused the credential (" + std::to_string(r.status) + ")"};
  throw common::ApiError(502, std::string(provider) + " answered " + std::to_string(r.status),
                         common::codes::kBadGateway);
}

VerifyOutcome verify_bearer(const ProviderSettings& s, std::string_view provider, std::string url,
                            const std::string& token) {
  common::OutboundRequest req;
  req.url = std::move(url);
  req.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
  auto r = call_provider(s, provider, std::move(req));
  if (!r.ok()) return refused_or_failed(provider, r);
  if (provider == "cloudflare") {
    auto body = body_object(r);
    const auto* result = body.if_contains("result");
    std::string status = result && result->is_object() ? text_of(result->as_object(), "status") : "";
    if (status != "active") return {false, "the token is not active (" + (status.empty() ? "no status" : status) + ")"};
  }
  return {true, "accepted"};
}

VerifyOutcome verify_steam(const ProviderSettings& s, const json::object& secrets) {
  common::OutboundRequest req;
  // GetPlayerSummaries needs a key; 76561197960435530 is the account Valve's documentation uses.
  req.url = s.steam_api_url + "/ISteamUser/GetPlayerSummaries/v2/?key=" + common::percent_encode(text_of(secrets, "api_key")) +
            "&steamids=76561197960435530";
  auto r = call_provider(s, "steam", std::move(req));
  if (!r.ok()) return refused_or_failed("steam", r);
  return {true, "accepted"};
}

VerifyOutcome verify_gcp(const ProviderSettings& s, const json::object& secrets) {
  auto account = service_account(text_of(secrets, "service_account_json"));
  std::string token_uri = text_of(account, "token_uri");
  if (token_uri != s.gcp_token_url)
    throw common::ApiError::validation("'secrets.service_account_json': token_uri is not GCP_TOKEN_URL (" +
                                       s.gcp_token_url + ")");
  std::string assertion;
  try {
    auto codec = security::JwtCodec::from_private_key_pem(text_of(account, "private_key"), text_of(account, "client_email"));
    assertion = codec.sign({{"scope", "https://www.googleapis.com/auth/cloud-platform"}, {"aud", token_uri}},
                           std::chrono::seconds(3600));
  } catch (const std::invalid_argument&) {
    return {false, "the service account's private_key is not an RSA key"};
  }
  common::OutboundRequest req;
  req.method = "POST";
  req.url = token_uri;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = "grant_type=" + common::percent_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
             "&assertion=" + common::percent_encode(assertion);
  auto r = call_provider(s, "gcp", std::move(req));
  if (r.ok() && !text_of(body_object(r), "access_token").empty()) return {true, "accepted"};
  if (r.status == 400 || r.status == 401 || r.status == 403) {
    std::string error = text_of(body_object(r), "error");
    return {false, "the token endpoint refused the assertion (" + (error.empty() ? std::to_string(r.status) : error) + ")"};
  }
  throw common::ApiError(502, "gcp answered " + std::to_string(r.status), common::codes::kBadGateway);
}

}  // namespace

namespace providers {

const std::vector<std::string_view>& names() {
  static const std::vector<std::string_view> out = [] {
    std::vector<std::string_view> v;
    for (const auto& p : catalogue()) v.push_back(p.name);
    return v;
  }();
  return out;
}

bool known(std::string_view provider) {
  return std::any_of(catalogue().begin(), catalogue().end(), [&](const Provider& p) { return p.name == provider; });
}

json::object check_secrets(std::string_view provider, const json::object& secrets) {
  const auto& p = find(provider);
  json::object out;
  for (const auto& [key, value] : secrets) {
    auto field = std::find_if(p.fields.begin(), p.fields.end(), [&](const Field& f) { return f.name == key; });
    std::string name = "'secrets." + std::string(key) + "'";
    if (field == p.fields.end()) throw common::ApiError::validation(name + ": not a field of " + std::string(provider));
    if (!value.is_string() || value.as_string().empty() || value.as_string().size() > field->max)
      throw common::ApiError::validation(name + ": a string of 1-" + std::to_string(field->max) + " characters");
    out[key] = value;
  }
  for (const auto& f : p.fields)
    if (f.required && !out.contains(f.name))
      throw common::ApiError::validation("'secrets." + std::string(f.name) + "': required for " + std::string(provider));
  if (provider == "gcp") service_account(text_of(out, "service_account_json"));
  return out;
}

std::string hint(std::string_view provider, const json::object& secrets) {
  std::string main = text_of(secrets, find(provider).hint_field);
  if (provider == "gcp") return text_of(service_account(main), "client_email");  // an address, not a secret
  return "****" + (main.size() > 8 ? main.substr(main.size() - 4) : std::string());
}

}  // namespace providers

common::OutboundResponse call_provider(const ProviderSettings& s, std::string_view provider,
                                       common::OutboundRequest request) {
  request.timeout = s.timeout;
  auto wait = s.backoff;
  common::OutboundResponse r;
  for (int attempt = 1;; ++attempt) {
    r = common::send(request);
    bool retry = r.status == 0 || r.status == 429 || r.status >= 500;
    if (!retry || attempt >= s.attempts) break;
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
  if (r.status == 0 && r.error == "Timeout was reached")
    throw common::ApiError(504, std::string(provider) + " did not answer in time", common::codes::kGatewayTimeout);
  if (r.status == 0) throw common::ApiError(502, std::string(provider) + " is unreachable: " + r.error, common::codes::kBadGateway);
  if (r.status == 429 || r.status >= 500)
    throw common::ApiError(502, std::string(provider) + " answered " + std::to_string(r.status) + " after " +
                                    std::to_string(s.attempts) + " tries",
                           common::codes::kBadGateway);
  return r;
}

VerifyOutcome verify_with_provider(const ProviderSettings& s, std::string_view provider, const json::object& secrets) {
  if (provider == "hetzner") return verify_bearer(s, provider, s.hetzner_api_url + "/servers?per_page=1", text_of(secrets, "api_token"));
  if (provider == "cloudflare")
    return verify_bearer(s, provider, s.cloudflare_api_url + "/user/tokens/verify", text_of(secrets, "api_token"));
  if (provider == "steam") return verify_steam(s, secrets);
  if (provider == "gcp") return verify_gcp(s, secrets);
  throw common::ApiError(501, std::string(provider) +
                                  " verification needs request signing (" +
                                  (provider == "aws" ? "AWS Signature V4" : "OCI HTTP signatures") +
                                  ") that this build does not have yet",
                         common::codes::kNotImplemented);
}

}  // namespace shardlyn
