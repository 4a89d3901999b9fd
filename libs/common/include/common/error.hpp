#pragma once
// The one error type handlers throw; the service turns it into its response style.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common {

// Machine-readable codes used across services (the `code` of the Panguard envelope).
namespace codes {
inline constexpr const char* kBadRequest = "bad_request";
inline constexpr const char* kValidation = "validation_error";
inline constexpr const char* kUnauthorized = "unauthorized";
inline constexpr const char* kForbidden = "forbidden";
inline constexpr const char* kNotFound = "not_found";
inline constexpr const char* kMethodNotAllowed = "method_not_allowed";
inline constexpr const char* kConflict = "conflict";
inline constexpr const char* kPayloadTooLarge = "payload_too_large";
inline constexpr const char* kUnsupportedMediaType = "unsupported_media_type";
inline constexpr const char* kHeaderTooLarge = "header_fields_too_large";
inline constexpr const char* kRateLimited = "rate_limited";
inline constexpr const char* kInternal = "internal_error";
inline constexpr const char* kNotImplemented = "not_implemented";
inline constexpr const char* kBadGateway = "bad_gateway";
inline constexpr const char* kGatewayTimeout = "gateway_timeout";
inline constexpr const char* kUnavailable = "service_unavailable";
}  // namespace codes

// Default machine code and reason phrase for a status.
const char* default_code(int status);
const char* reason_phrase(int status);

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string code = {})
      : std::runtime_error(std::move(message)),
        status_(status),
        code_(code.empty() ? default_code(status) : std::move(code)) {}

  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  // Extra response headers (e.g. WWW-Authenticate, Allow, Retry-After).
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
  ApiError& with_header(std::string_view name, std::string_view value) {
    headers_.emplace_back(std::string(name), std::string(value));
    return *this;
  }

  static ApiError bad_request(std::string message) { return {400, std::move(message)}; }
  static ApiError validation(std::string message) { return {400, std::move(message), codes::kValidation}; }
  static ApiError unauthorized(std::string message = "missing or invalid authentication token");
  static ApiError forbidden(std::string message = "insufficient permissions") { return {403, std::move(message)}; }
  static ApiError not_found(std::string message = "not found") { return {404, std::move(message)}; }
  static ApiError conflict(std::string message) { return {409, std::move(message)}; }
  static ApiError not_implemented(std::string setting) {
    return {501, "this feature is not configured: set " + setting, codes::kNotImplemented};
  }

 private:
  int status_;
  std::string code_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// A configuration problem that stops a service from starting (exit code 2).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace common
