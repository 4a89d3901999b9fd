#include "common/envelope.hpp"

#include <charconv>
#include <string>

#include "common/clock.hpp"
#include "common/router.hpp"

namespace common {

namespace {

std::int64_t parse_positive(const Request& req, std::string_view name, std::int64_t fallback) {
  auto raw = req.query_param(name);
  if (!raw) return fallback;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), value);
  if (raw->empty() || ec != std::errc() || ptr != raw->data() + raw->size() || value < 1)
    throw ApiError::validation("query parameter '" + std::string(name) + "' must be a whole number >= 1");
  return value;
}

}  // namespace

PageRequest parse_page(const Request& req, std::string_view limit_name) {
  PageRequest page;
  page.page = parse_positive(req, "page", 1);
  page.limit = std::min<std::int64_t>(parse_positive(req, limit_name, 50), 200);
  if (page.page > 1'000'000'000) throw ApiError::validation("query parameter 'page' is too large");
  return page;
}

Response envelope_ok(boost::json::value data, int status) {
  boost::json::object body;
  body["ok"] = true;
  body["data"] = std::move(data);
  return Response::json(body, status);
}

Response envelope_page(boost::json::array items, std::int64_t total, const PageRequest& page) {
  boost::json::object body;
  body["ok"] = true;
  body["data"] = std::move(items);
  body["pagination"] = {
      {"total", total}, {"page", page.page}, {"limit", page.limit}, {"pages", (total + page.limit - 1) / page.limit}};
  return Response::json(body);
}

Response bare_page(boost::json::array items, std::int64_t total, const PageRequest& page) {
  boost::json::object body;
  body["items"] = std::move(items);
  body["total"] = total;
  body["page"] = page.page;
  body["per_page"] = page.limit;
  return Response::json(body);
}

Response error_response(ResponseStyle style, const ApiError& error) {
  boost::json::object body;
  if (style == ResponseStyle::Envelope) {
    body["ok"] = false;
    body["error"] = error.what();
    body["code"] = error.code();
  } else {
    body["error"] = error.what();
  }
  Response r = Response::json(body, error.status());
  for (const auto& [name, value] : error.headers()) r.headers.set(name, value);
  return r;
}

Response error_response(const Route* route, ResponseStyle style, const ApiError& error) {
  if (!route || !route->render_error) return error_response(style, error);
  Response r = route->render_error(error);
  r.status = error.status();
  for (const auto& [name, value] : error.headers()) r.headers.set(name, value);
  return r;
}

boost::json::value rfc3339_or_null(const std::optional<std::int64_t>& unix_seconds) {
  if (!unix_seconds) return nullptr;
  return boost::json::value(rfc3339_from_unix(*unix_seconds));
}

}  // namespace common
