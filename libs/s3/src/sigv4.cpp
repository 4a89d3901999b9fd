#include "s3/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fmt/format.h>
#include <map>

#include "security/digest.hpp"
#include "security/encoding.hpp"

namespace s3 {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Leading and trailing blanks removed, inner runs of blanks collapsed to one space.
std::string trimmed(std::string_view value) {
  std::string out;
  bool blank = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::string canonical_query(const RequestToSign& request) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : request.query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + '=' + value;
  }
  return out;
}

}  // namespace

std::string amz_date(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Signature sign_v4(const Credentials& credentials, const SigningScope& scope, std::string_view amz_date,
                  const RequestToSign& request) {
  std::map<std::string, std::string> headers;  // sorted by lower-case name; repeats joined by ','
  for (const auto& [name, value] : request.headers) {
    auto& slot = headers[lower(name)];
    slot += (slot.empty() ? "" : ",") + trimmed(value);
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ':' + value + '\n';
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  Signature out;
  out.canonical_request = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, request.path.empty() ? "/" : request.path,
                                      canonical_query(request), canonical_headers, signed_headers,
                                      request.payload_sha256);
  std::string date(amz_date.substr(0, 8));
  std::string credential_scope = fmt::format("{}/{}/{}/aws4_request", date, scope.region, scope.service);
  out.string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, credential_scope,
                                   security::sha256_hex(out.canonical_request));
  std::string key = security::hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = security::hmac_sha256(key, scope.region);
  key = security::hmac_sha256(key, scope.service);
  key = security::hmac_sha256(key, "aws4_request");
  out.signature = security::hex_encode(security::hmac_sha256(key, out.string_to_sign));
  out.authorization = fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}",
                                  credentials.access_key_id, credential_scope, signed_headers, out.signature);
  return out;
}

}  // namespace s3
