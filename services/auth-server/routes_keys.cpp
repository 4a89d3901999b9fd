// /.well-known/jwks.json: the public key that verifies access tokens (RFC 7517 key set).
#include "routes.hpp"

namespace auth {

namespace {

common::Response jwks(const AccessTokens& tokens) {
  // A standard document for JWT libraries, so not wrapped in the envelope.
  auto res = common::Response::json(tokens.jwks());
  res.headers.set("Cache-Control", "public, max-age=300");
  return res;
}

}  // namespace

std::vector<common::Route> key_routes(const AccessTokens& tokens) {
  return {
      {.method = "GET",
       .path = "/.well-known/jwks.json",
       .limit = "none",  // verifiers of several services may share an address; the answer is constant
       .handler = [&tokens](common::Request&) { return jwks(tokens); }},
  };
}

}  // namespace auth
