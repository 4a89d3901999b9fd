// /.well-known/jwks.json: the public key that verifies access tokens (RFC 7517 key set).
#include "routes.hpp"

namespace auth {

void add_key_routes(common::Service& service, const AccessTokens& tokens) {
  const AccessTokens* t = &tokens;
  service.add({
      {.method = "GET",
       .path = "/.well-known/jwks.json",
       .handler =
           [t](common::Request&) {
             // A standard document for JWT libraries, so not wrapped in the envelope.
             auto res = common::Response::json(t->jwks());
             res.headers.set("Cache-Control", "public, max-age=300");
             return res;
           }},
  });
}

}  // namespace auth
