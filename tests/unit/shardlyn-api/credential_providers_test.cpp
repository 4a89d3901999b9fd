// credentials/providers.hpp: the secret fields each provider takes, and the hint shown instead.
#include "credentials/providers.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "common/error.hpp"

using namespace shardlyn;
namespace json = boost::json;

namespace {

std::string refusal(std::string_view provider, const json::object& secrets) {
  try {
    providers::check_secrets(provider, secrets);
  } catch (const common::ApiError& e) {
    CHECK(e.status() == 400);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every documented provider is known, nothing else") {
  CHECK(providers::names() == std::vector<std::string_view>{"aws", "gcp", "hetzner", "oci", "cloudflare", "steam"});
  CHECK(providers::known("steam"));
  CHECK_FALSE(providers::known("digitalocean"));
  CHECK(refusal("digitalocean", {{"api_token", "t"}}).find("'provider'") != std::string::npos);
}

TEST_CASE("secret fields are checked per provider") {
  CHECK(providers::check_secrets("hetzner", {{"api_token", "abc"}}) == json::object{{"api_token", "abc"}});
  CHECK(refusal("hetzner", {}).find("'secrets.api_token': required") != std::string::npos);
  CHECK(refusal("hetzner", {{"api_token", "t"}, {"token", "t"}}).find("'secrets.token': not a field") !=
        std::string::npos);
  CHECK(refusal("steam", {{"api_key", 12}}).find("'secrets.api_key'") != std::string::npos);
  CHECK(refusal("steam", {{"api_key", ""}}).find("'secrets.api_key'") != std::string::npos);
  CHECK(refusal("steam", {{"api_key", std::string(65, 'k')}}).find("1-64") != std::string::npos);
  CHECK(refusal("aws", {{"access_key_id", "AKIA"}}).find("'secrets.secret_access_key'") != std::string::npos);
  CHECK(providers::check_secrets("aws", {{"access_key_id", "AKIA"}, {"secret_access_key", "s"}}).size() == 2);
  CHECK(refusal("cloudflare", {{"account_id", "a"}}).find("'secrets.api_token'") != std::string::npos);
  CHECK(refusal("oci", {{"tenancy_ocid", "t"}}).find("required for oci") != std::string::npos);
}

TEST_CASE("a gcp credential is a service account key file") {
  json::object key{{"type", "service_account"}, {"client_email", "sa@p.iam.gserviceaccount.com"},
                   {"private_key", "-----BEGIN PRIVATE KEY-----"}, {"token_uri", "https://oauth2.googleapis.com/token"}};
  json::object secrets{{"service_account_json", json::serialize(key)}};
  CHECK(providers::check_secrets("gcp", secrets).size() == 1);
  CHECK(providers::hint("gcp", secrets) == "sa@p.iam.gserviceaccount.com");
  key["type"] = "authorized_user";
  CHECK(refusal("gcp", {{"service_account_json", json::serialize(key)}}).find("service_account") != std::string::npos);
  key["type"] = "service_account";
  key.erase("token_uri");
  CHECK(refusal("gcp", {{"service_account_json", json::serialize(key)}}).find("token_uri") != std::string::npos);
  CHECK(refusal("gcp", {{"service_account_json", "[1]"}}).find("a JSON object") != std::string::npos);
}

TEST_CASE("hints show the last four characters of long secrets only") {
  CHECK(providers::hint("hetzner", {{"api_token", "0123456789abcdef"}}) == "****cdef");
  CHECK(providers::hint("hetzner", {{"api_token", "short"}}) == "****");
  CHECK(providers::hint("aws", {{"access_key_id", "AKIAEXAMPLE1234"}, {"secret_access_key", "s"}}) == "****1234");
}
