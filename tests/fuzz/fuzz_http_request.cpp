// Fuzzes what a client controls before any handler runs: HTTP/1.1 parsing with the server's
// limits, routing (templates, percent-decoding), query parameters, pagination and JSON bodies.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/router.hpp"

namespace http = boost::beast::http;

namespace {

const common::Router& router() {
  static const common::Router r = [] {
    common::Router out;
    auto ok = [](common::Request&) { return common::Response::empty(); };
    for (const char* path : {"/health", "/api/iocs", "/api/iocs/{value}", "/api/campaigns/stats", "/api/campaigns/{id}",
                             "/v1/nodes/{id}/power/start", "/v1/instances/{id}/files/{path*}", "/taxii2/{rest*}"}) {
      out.add({.method = "GET", .path = path, .handler = ok});
      out.add({.method = "POST", .path = path, .handler = ok});
    }
    return out;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;

  auto msg = parser.release();
  common::Request req;
  req.method = std::string(msg.method_string());
  req.set_target(std::string(msg.target()));
  for (const auto& field : msg) req.headers.add(std::string(field.name_string()), std::string(field.value()));
  req.body = std::move(msg.body());

  try {
    auto match = router().match(req.method, req.path);
    req.params = std::move(match.params);
    (void)req.query_param("page");
    (void)common::parse_page(req);
    (void)req.bearer_token();
    (void)req.json(false);
  } catch (const common::ApiError&) {
    // Rejections are the expected outcome for most inputs.
  }
  return 0;
}
