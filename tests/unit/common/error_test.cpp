#include "common/error.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("error: default_code per status", "[common][error]") {
  struct Case {
    int status;
    const char* code;
  };
  for (auto c :
       {Case{400, "bad_request"}, Case{401, "unauthorized"}, Case{403, "forbidden"}, Case{404, "not_found"},
        Case{405, "method_not_allowed"}, Case{409, "conflict"}, Case{413, "payload_too_large"},
        Case{415, "unsupported_media_type"}, Case{429, "rate_limited"}, Case{431, "header_fields_too_large"},
        Case{500, "internal_error"}, Case{501, "not_implemented"}, Case{502, "bad_gateway"},
        Case{503, "service_unavailable"}, Case{504, "gateway_timeout"},
        // Unlisted statuses fall back by class.
        Case{418, "bad_request"}, Case{422, "bad_request"}, Case{505, "internal_error"}, Case{599, "internal_error"}}) {
    INFO(c.status);
    CHECK(std::string(common::default_code(c.status)) == c.code);
  }
  CHECK(std::string(common::codes::kValidation) == "validation_error");
}

TEST_CASE("error: reason_phrase", "[common][error]") {
  CHECK(std::string(common::reason_phrase(200)) == "OK");
  CHECK(std::string(common::reason_phrase(404)) == "Not Found");
  CHECK(std::string(common::reason_phrase(405)) == "Method Not Allowed");
  CHECK(std::string(common::reason_phrase(429)) == "Too Many Requests");
  CHECK(std::string(common::reason_phrase(503)) == "Service Unavailable");
  CHECK(std::string(common::reason_phrase(299)) == "Unknown");
}

TEST_CASE("error: ApiError carries status, message and code", "[common][error]") {
  common::ApiError plain(404, "agent not found");
  CHECK(plain.status() == 404);
  CHECK(std::string(plain.what()) == "agent not found");
  CHECK(plain.code() == "not_found");
  CHECK(plain.headers().empty());

  common::ApiError custom(403, "tier too low", "tier_required");
  CHECK(custom.status() == 403);
  CHECK(custom.code() == "tier_required");

  // It is a std::runtime_error, so generic handlers see the message.
  try {
    throw common::ApiError(409, "already exists");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "already exists");
  }
}

TEST_CASE("error: ApiError factories", "[common][error]") {
  auto bad = common::ApiError::bad_request("bad input");
  CHECK(bad.status() == 400);
  CHECK(bad.code() == "bad_request");

  auto validation = common::ApiError::validation("email: must be an email address");
  CHECK(validation.status() == 400);
  CHECK(validation.code() == "validation_error");
  CHECK(std::string(validation.what()) == "email: must be an email address");

  auto forbidden = common::ApiError::forbidden();
  CHECK(forbidden.status() == 403);
  CHECK(forbidden.code() == "forbidden");
  CHECK_FALSE(std::string(forbidden.what()).empty());

  auto missing = common::ApiError::not_found();
  CHECK(missing.status() == 404);
  CHECK(missing.code() == "not_found");

  auto conflict = common::ApiError::conflict("email already registered");
  CHECK(conflict.status() == 409);
  CHECK(conflict.code() == "conflict");

  auto not_impl = common::ApiError::not_implemented("SMTP_HOST");
  CHECK(not_impl.status() == 501);
  CHECK(not_impl.code() == "not_implemented");
  CHECK_THAT(not_impl.what(), Catch::Contains("SMTP_HOST"));
}

TEST_CASE("error: unauthorized carries WWW-Authenticate: Bearer", "[common][error]") {
  auto e = common::ApiError::unauthorized();
  CHECK(e.status() == 401);
  CHECK(e.code() == "unauthorized");
  CHECK_FALSE(std::string(e.what()).empty());
  CHECK(e.headers() == Headers{{"WWW-Authenticate", "Bearer"}});

  auto custom = common::ApiError::unauthorized("token expired");
  CHECK(std::string(custom.what()) == "token expired");
  CHECK(custom.headers() == Headers{{"WWW-Authenticate", "Bearer"}});
}

TEST_CASE("error: with_header chains and keeps order", "[common][error]") {
  common::ApiError e(405, "method not allowed");
  e.with_header("Allow", "GET, HEAD").with_header("X-Extra", "1");
  CHECK(e.headers() == Headers{{"Allow", "GET, HEAD"}, {"X-Extra", "1"}});
  CHECK(e.code() == "method_not_allowed");

  auto limited = common::ApiError(429, "rate limited").with_header("Retry-After", "3");
  CHECK(limited.headers() == Headers{{"Retry-After", "3"}});

  // Copies keep their headers (thrown errors are copied).
  try {
    throw common::ApiError::unauthorized().with_header("X-Reason", "expired");
  } catch (const common::ApiError& caught) {
    CHECK(caught.headers().size() == 2);
    CHECK(caught.headers()[1].second == "expired");
  }
}

TEST_CASE("error: ConfigError is a runtime_error", "[common][error]") {
  try {
    throw common::ConfigError("PORT must be a number");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "PORT must be a number");
  }
}
