#pragma once
// AWS Signature Version 4 (header form) for any AWS-style service: S3 here, STS for a
// credentials check. The caller builds the request as it will be sent; sign_v4 computes the
// canonical request, the string to sign and the Authorization header value.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; sent as x-amz-security-token
};

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "sts"
};

struct RequestToSign {
  std::string method;                                        // "GET"
  std::string path;                                          // URI-encoded as sent ("/" at least)
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, Host and X-Amz-Date included
  std::string payload_sha256;                                // lowercase hex, or "UNSIGNED-PAYLOAD"
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // the Authorization header's value
};

// "20130524T000000Z" (ISO 8601 basic, UTC), the X-Amz-Date format.
std::string amz_date(std::chrono::system_clock::time_point when);

// RFC 3986 percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ encoded
// (upper-case hex); '/' kept when keep_slash (object keys in a path).
std::string uri_encode(std::string_view text, bool keep_slash);

// Signs request for scope at amz_date (which must equal the X-Amz-Date header sent). Every
// header given is signed.
Signature sign_v4(const Credentials& credentials, const SigningScope& scope, std::string_view amz_date,
                  const RequestToSign& request);

}  // namespace s3
