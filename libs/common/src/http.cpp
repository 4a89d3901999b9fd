#include "common/http.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include "common/error.hpp"
#include "common/input.hpp"
#include "common/json_writer.hpp"
#include "common/openapi.hpp"
#include "common/router.hpp"

namespace common {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(items_, [&](const auto& kv) { return iequals(kv.first, name); });
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void Request::set_target(std::string raw_target) {
  // Absolute form (RFC 9112 3.2.2), e.g. from a forward proxy: route by its path.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (raw_target.size() > scheme.size() && iequals(std::string_view(raw_target).substr(0, scheme.size()), scheme)) {
      auto slash = raw_target.find_first_of("/?", scheme.size());
      raw_target = slash == std::string::npos ? "/" : (raw_target[slash] == '?' ? "/" : "") + raw_target.substr(slash);
      break;
    }
  }
  target = std::move(raw_target);
  auto q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string::npos ? std::string() : target.substr(q + 1);
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    auto value = percent_decode(pair.substr(eq + 1), true);
    if (!value) throw ApiError::bad_request("query parameter '" + std::string(name) + "' has a malformed escape");
    return value;
  }
  return std::nullopt;
}

boost::json::value Request::json(bool object_only) const {
  auto type = headers.get("Content-Type").value_or("");
  auto semi = type.find(';');
  auto mime = type.substr(0, semi);
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  if (!iequals(mime, "application/json")) throw ApiError(415, "Content-Type must be application/json");
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value value = boost::json::parse(body, ec, {}, options);
  if (ec) {
    // Find how far the parser got, to name the position; the reason is the first parse's.
    boost::json::stream_parser parser({}, options);
    boost::system::error_code position_ec;
    std::size_t consumed = parser.write_some(body.data(), body.size(), position_ec);
    throw ApiError::bad_request("invalid JSON at byte " + std::to_string(consumed) + ": " + ec.message());
  }
  if (object_only && !value.is_object()) throw ApiError::bad_request("request body must be a JSON object");
  if (route) {
    input::refuse_unknown_fields(value, route->fields);
    if (route->body_shape) refuse_unknown_nested(value, *route->body_shape);
  }
  return value;
}

boost::json::object Request::json_object() const { return std::move(json(true).as_object()); }

std::optional<std::string_view> Request::bearer_token() const {
  auto auth = headers.get("Authorization");
  if (!auth) return std::nullopt;
  constexpr std::string_view kScheme = "Bearer ";
  if (auth->size() <= kScheme.size() || !iequals(auth->substr(0, kScheme.size()), kScheme)) return std::nullopt;
  auto token = auth->substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

Response Response::json(const boost::json::value& value, int status) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = write_json(value);
  return r;
}

Response Response::text(std::string body, std::string content_type, int status) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

}  // namespace common
