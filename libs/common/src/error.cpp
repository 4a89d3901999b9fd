#include "common/error.hpp"

namespace common {

const char* default_code(int status) {
  switch (status) {
    case 400: return codes::kBadRequest;
    case 401: return codes::kUnauthorized;
    case 403: return codes::kForbidden;
    case 404: return codes::kNotFound;
    case 405: return codes::kMethodNotAllowed;
    case 409: return codes::kConflict;
    case 413: return codes::kPayloadTooLarge;
    case 415: return codes::kUnsupportedMediaType;
    case 431: return codes::kHeaderTooLarge;
    case 429: return codes::kRateLimited;
    case 501: return codes::kNotImplemented;
    case 502: return codes::kBadGateway;
    case 503: return codes::kUnavailable;
    case 504: return codes::kGatewayTimeout;
    default: return status >= 500 ? codes::kInternal : codes::kBadRequest;
  }
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

ApiError ApiError::unauthorized(std::string message) {
  ApiError e(401, std::move(message));
  e.headers_.push_back({std::string("WWW-Authenticate"), std::string("Bearer")});
  return e;
}

}  // namespace common
