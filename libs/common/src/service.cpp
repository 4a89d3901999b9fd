#include "common/service.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/input.hpp"
#include "common/job_lanes.hpp"
#include "common/library_schema.hpp"
#include "common/log.hpp"
#include "common/openapi.hpp"
#include "common/proxy.hpp"
#include "security/aead.hpp"
#include "security/random.hpp"

std::span<const common::EmbeddedFile> swagger_ui_assets();

namespace common {

namespace {

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

struct Service::Impl : RequestSink {
  ServiceInfo info;
  Config config;
  std::filesystem::path data_dir;
  bool production = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::int64_t started_unix = unix_seconds();

  metrics::Registry registry;
  metrics::Family<metrics::Counter>* requests_total = nullptr;
  metrics::Family<metrics::Histogram>* request_duration = nullptr;
  metrics::Gauge* requests_in_flight = nullptr;
  metrics::Family<metrics::Counter>* rate_limited = nullptr;

  Router router;
  std::map<std::string, std::function<void(Request&, const Route&)>, std::less<>> auth_schemes;
  std::map<std::string, std::unique_ptr<RateLimiter>, std::less<>> limit_classes;
  std::unique_ptr<RateLimiter> global_limit;
  std::vector<std::pair<std::string, std::function<bool()>>> readiness;
  std::function<boost::json::object()> health_extra;
  std::unique_ptr<store::Database> database;
  // PostgreSQL: the election of the replica that runs the leader_every() jobs.
  std::unique_ptr<store::pg::Leadership> job_leadership;
  std::atomic<bool> job_leader{false};
  std::vector<std::shared_ptr<void>> owned;  // after `database`: destroyed before it
  std::vector<std::function<void()>> shutdown_hooks;
  std::unique_ptr<JobLanes> jobs;  // created with the registry's prefix in the constructor

  std::vector<std::string> cors_origins;
  bool cors_any = false;
  TrustedProxies proxies;  // TRUST_PROXY
  ServerOptions server_options;
  std::unique_ptr<HttpServer> server;
  // stop() may come from any thread while run() creates or drops `server`.
  std::mutex server_mutex;
  bool stop_requested = false;  // a stop() before run() serves: run() drains at once
  std::string openapi_json;
  // Request bodies whose nested objects the document closes (decision 0023), by (METHOD, path).
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const BodyShape>> body_shapes;

  Impl(ServiceInfo i, Config c) : info(std::move(i)), config(std::move(c)) {}

  // RequestSink: the one router match per request, kept for the guard and the dispatch.
  Admission admit(Request& head) override {
    Admission a{server_options.default_body_limit, false};
    try {
      auto match = std::make_shared<RouteMatch>(router.match(head.method, head.path));
      if (const Route* r = match->route) {
        if (r->body_limit) a.body_limit = r->body_limit;
        a.stream_body = static_cast<bool>(r->body_sink);
      }
      head.match = std::move(match);
    } catch (const ApiError&) {
      // A malformed escape: dispatch() matches again and answers the 400.
    }
    return a;
  }

  Response protocol_error(int status, std::string_view message, const std::string& peer_ip, bool tls) override {
    Response res = error_response(info.style, ApiError(status, std::string(message)));
    Request req;
    req.request_id = new_request_id();
    req.client_ip = peer_ip;
    req.tls = tls;
    decorate(req, res, nullptr);
    requests_total->with({"OTHER", kNoRoute, std::to_string(status)}).inc();
    log::warn("rejected malformed request", {{"status", status}, {"reason", message}, {"client_ip", peer_ip}});
    return res;
  }

  void handle(Request req, std::function<void(Response)> respond) override {
    requests_in_flight->inc();
    auto header_id = req.headers.get("X-Request-Id");
    req.request_id = header_id && sane_request_id(*header_id) ? std::string(*header_id) : new_request_id();
    if (proxies.enabled()) req.client_ip = proxies.client_ip(req.peer_ip, req.headers);
    LimitDecision shown{};
    bool show_limit = false;
    Response res;
    try {
      res = dispatch(req, shown, show_limit);
      if (req.route && req.route->async_handler) return answer_later(std::move(req), std::move(respond), shown, show_limit);
      if (req.route && (req.route->offload || req.offload)) {
        // dispatch() only authorised; the handler runs on the worker pool.
        server->post_work([this, req = std::move(req), respond, shown, show_limit]() mutable {
          Response r = invoke(req);
          complete(req, std::move(r), shown, show_limit, respond);
        });
        return;
      }
      if (req.route) res = invoke(req);
    } catch (const ApiError& e) {
      res = error_for(req, e);
    } catch (const std::exception& e) {
      res = internal_error(req, e);
    }
    complete(req, std::move(res), shown, show_limit, respond);
  }

  // An asynchronous route: its reply completes the request whenever it comes, once.
  void answer_later(Request req, std::function<void(Response)> respond, LimitDecision shown, bool show_limit) {
    auto kept = std::make_shared<Request>(std::move(req));
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [this, kept, respond = std::move(respond), shown, show_limit,
                   answered](std::function<Response()> answer) {
      if (answered->exchange(true)) return;
      complete(*kept, guarded(*kept, answer), shown, show_limit, respond);
    };
    try {
      kept->route->async_handler(*kept, reply);
    } catch (...) {
      // Thrown before it answered: the handler's error, answered now.
      reply([error = std::current_exception()]() -> Response { std::rethrow_exception(error); });
    }
  }

  // A streamed-body route's sink, wrapped so that its answer goes through finish() like any
  // other (headers, metrics, access log) once the body has been read.
  class PipelineBody : public BodySink {
   public:
    PipelineBody(Impl& service, std::shared_ptr<BodySink> inner, Request req, LimitDecision shown, bool show_limit)
        : service_(service), inner_(std::move(inner)), req_(std::move(req)), shown_(shown), show_limit_(show_limit) {}
    void write(std::string_view piece, More more) override { inner_->write(piece, std::move(more)); }
    Response finish() override {
      Response res = service_.guarded(req_, [this] { return inner_->finish(); });
      service_.finish(req_, res, shown_, show_limit_);
      return res;
    }
    void abort() override {
      inner_->abort();
      service_.requests_in_flight->dec();
    }

   private:
    Impl& service_;
    std::shared_ptr<BodySink> inner_;
    Request req_;
    LimitDecision shown_;
    bool show_limit_;
  };

  void complete(Request& req, Response res, const LimitDecision& shown, bool show_limit,
                const std::function<void(Response)>& respond) {
    if (res.request_body) {
      res.request_body = std::make_shared<PipelineBody>(*this, std::move(res.request_body), req, shown, show_limit);
      return respond(std::move(res));
    }
    finish(req, res, shown, show_limit);
    respond(std::move(res));
  }

  Response internal_error(const Request& req, const std::exception& e) {
    log::error("unhandled error", {{"request_id", req.request_id}, {"error", e.what()}});
    return error_for(req, ApiError(500, "internal server error"));
  }

  // An error in the style of the matched route (its own renderer) or else the service's.
  Response error_for(const Request& req, const ApiError& e) const {
    const Route* route = req.route ? req.route : req.match ? req.match->route : nullptr;
    return error_response(route, info.style, e);
  }

  Response invoke(Request& req) {
    return guarded(req, [this, &req] {
      const Route& route = *req.route;
      if (route.websocket.open) return open_websocket(req);
      if (route.body_sink) {
        Response res = Response::empty(100);
        res.request_body = route.body_sink(req);
        if (!res.request_body) throw std::logic_error("body_sink returned no sink for " + route.path);
        return res;
      }
      return route.handler(req);
    });
  }

  // PostgreSQL down or unreachable, or every pooled connection busy: the client may retry.
  static bool unavailable(const store::pg::Error& e) { return e.is_connection_lost() || e.sqlstate() == "53300"; }

  // Runs a step of a request, turning what it throws into the service's error response.
  template <class F>
  Response guarded(const Request& req, F&& step) {
    try {
      return step();
    } catch (const ApiError& e) {
      return error_for(req, e);
    } catch (const store::Error& e) {
      if (e.is_busy()) return error_for(req, ApiError(503, "database busy, retry shortly"));
      if (const auto* pg = dynamic_cast<const store::pg::Error*>(&e); pg && unavailable(*pg))
        return error_for(req, ApiError(503, "database unavailable, retry shortly").with_header("Retry-After", "2"));
      return internal_error(req, e);
    } catch (const std::exception& e) {
      return internal_error(req, e);
    }
  }

  // A WebSocket route: a valid RFC 6455 upgrade from an allowed origin opens the handler.
  Response open_websocket(Request& req) {
    auto upgrade = req.headers.get("Upgrade");
    auto connection = req.headers.get("Connection");
    bool asks = upgrade && iequals(*upgrade, "websocket") && connection && contains_token(*connection, "upgrade");
    if (!asks || !req.headers.has("Sec-WebSocket-Key"))
      throw ApiError(426, "this route needs a WebSocket upgrade").with_header("Upgrade", "websocket");
    if (req.headers.get("Sec-WebSocket-Version") != std::optional<std::string_view>("13"))
      throw ApiError(426, "unsupported WebSocket version").with_header("Sec-WebSocket-Version", "13");
    if (auto origin = req.headers.get("Origin"); origin && !origin_allowed(*origin) && !same_origin(req, *origin))
      throw ApiError::forbidden("origin not allowed by CORS_ALLOWED_ORIGINS");
    auto accepted = std::make_shared<WebSocketUpgrade>();
    accepted->handler = req.route->websocket.open(req);
    accepted->limits = req.route->websocket.limits;
    if (!accepted->handler) throw std::logic_error("websocket.open returned no handler for " + req.route->path);
    Response res = Response::empty(101);
    res.websocket = std::move(accepted);
    return res;
  }

  static bool contains_token(std::string_view list, std::string_view token) {
    for (const auto& item : split_list(list))
      if (iequals(item, token)) return true;
    return false;
  }

  // A browser page served by this host itself (Origin's authority equals Host).
  static bool same_origin(const Request& req, std::string_view origin) {
    auto host = req.headers.get("Host");
    auto scheme_end = origin.find("://");
    return host && scheme_end != std::string_view::npos && iequals(origin.substr(scheme_end + 3), *host);
  }

  // Routing, CORS preflight, rate limits and authentication. Returns a response when the
  // request ends here; otherwise req.route is set and the handler is still to run.
  Response dispatch(Request& req, LimitDecision& shown, bool& show_limit) {
    RouteMatch late;
    const RouteMatch& match = req.match ? *req.match : (late = router.match(req.method, req.path));
    if (req.method == "OPTIONS") {
      if (match.allowed.empty()) throw ApiError::not_found("no such path");
      return options_response(req, match.allowed);
    }
    if (!match.route) {
      if (match.allowed.empty()) throw ApiError::not_found("no route for " + req.method + " " + req.path);
      std::string allow = fmt::format("{}", fmt::join(match.allowed, ", "));
      throw ApiError(405, "method " + req.method + " is not allowed here").with_header("Allow", allow);
    }
    req.params = match.params;
    const Route& route = *match.route;
    // Documentation and static assets have a bucket of their own: a docs page load is several
    // requests, and they must not eat the API's per-IP allowance.
    bool limited = route.limit != "none" && route.limit != kStaticLimit && global_limit;
    if (limited && route.ip_limit) apply_limit(*global_limit, "service", "ip:" + req.client_ip, shown, show_limit);
    if (route.auth != "public") {
      try {
        auth_schemes.find(route.auth)->second(req, route);
      } catch (const ApiError&) {
        // Guessing credentials costs the per-IP budget even where callers are limited per credential.
        if (limited && !route.ip_limit) apply_limit(*global_limit, "service", "ip:" + req.client_ip, shown, show_limit);
        throw;
      }
    }
    if (route.limit != "none" && route.limit != "default") {
      auto& limiter = *limit_classes.find(route.limit)->second;
      apply_limit(limiter, route.limit, req.rate_key.empty() ? "ip:" + req.client_ip : req.rate_key, shown, show_limit);
    }
    input::refuse_unknown_query(req, route.query);
    if (route.fields.empty()) refuse_body_members(req);
    req.route = match.route;
    return {};
  }

  // A route that declares no fields reads no body, so members sent to it would be ignored
  // silently: refuse them too ({} and an empty body are fine).
  static void refuse_body_members(const Request& req) {
    if (req.body.empty()) return;
    auto type = req.headers.get("Content-Type").value_or("");
    if (!iequals(type.substr(0, std::min<std::size_t>(type.size(), 16)), "application/json")) return;
    boost::system::error_code ec;
    auto value = boost::json::parse(req.body, ec);
    if (!ec) input::refuse_unknown_fields(value, {});
  }

  void apply_limit(RateLimiter& limiter, const std::string& name, const std::string& key, LimitDecision& shown,
                   bool& show_limit) {
    LimitDecision d = limiter.check(key);
    if (!show_limit || d.remaining < shown.remaining || !d.allowed) shown = d;
    show_limit = true;
    if (!d.allowed) {
      rate_limited->with({name}).inc();
      throw ApiError(429, fmt::format("rate limit exceeded, retry in {} s", d.retry_after))
          .with_header("Retry-After", std::to_string(d.retry_after));
    }
  }

  Response options_response(const Request& req, const std::vector<std::string>& allowed) {
    std::string allow = fmt::format("{}", fmt::join(allowed, ", ")) + ", OPTIONS";
    auto origin = req.headers.get("Origin");
    auto wanted = req.headers.get("Access-Control-Request-Method");
    Response res = Response::empty(204);
    res.headers.add("Allow", allow);
    if (!origin || !wanted) return res;
    if (!origin_allowed(*origin)) throw ApiError::forbidden("origin not allowed by CORS_ALLOWED_ORIGINS");
    res.headers.add("Access-Control-Allow-Methods", allow);
    std::string headers = "Authorization, Content-Type, X-Request-Id";
    if (auto asked = req.headers.get("Access-Control-Request-Headers")) {
      bool token_chars = std::all_of(asked->begin(), asked->end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ',' || c == ' ';
      });
      if (token_chars && asked->size() < 1024) headers = std::string(*asked);
    }
    res.headers.add("Access-Control-Allow-Headers", headers);
    res.headers.add("Access-Control-Max-Age", "600");
    return res;
  }

  bool origin_allowed(std::string_view origin) const {
    if (cors_any) return true;
    for (const auto& o : cors_origins)
      if (o == origin) return true;
    return false;
  }

  // Headers every response carries.
  void decorate(const Request& req, Response& res, const Route* route) {
    auto& h = res.headers;
    h.set("X-Request-Id", req.request_id);
    h.set("X-Content-Type-Options", "nosniff");
    if (!h.has("X-Frame-Options")) h.add("X-Frame-Options", "DENY");
    if (!h.has("Referrer-Policy")) h.add("Referrer-Policy", "strict-origin-when-cross-origin");
    if (route && route->auth != "public") h.set("Cache-Control", "no-store");
    if (req.tls) h.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    if (auto origin = req.headers.get("Origin"); origin && origin_allowed(*origin)) {
      h.set("Access-Control-Allow-Origin", cors_any ? "*" : std::string(*origin));
      if (!cors_any) h.add("Vary", "Origin");
      h.set("Access-Control-Expose-Headers",
            "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After");
    }
  }

  void finish(const Request& req, Response& res, const LimitDecision& shown, bool show_limit) {
    const Route* route = req.route;
    if (show_limit) {
      res.headers.set("X-RateLimit-Limit", std::to_string(shown.limit));
      res.headers.set("X-RateLimit-Remaining", std::to_string(shown.remaining));
      res.headers.set("X-RateLimit-Reset", std::to_string(shown.reset_unix));
    }
    decorate(req, res, route);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - req.received).count();
    const std::string& tmpl = route ? route->path : kNoRoute;
    auto [counter, histogram] = request_metrics(req, res.status);
    counter->inc();
    histogram->observe(seconds);
    requests_in_flight->dec();
    log::access({.request_id = req.request_id,
                 .method = req.method,
                 .route = tmpl,
                 .path = req.path,
                 .client_ip = req.client_ip,
                 .status = res.status,
                 .duration_us = static_cast<long long>(seconds * 1e6),
                 .bytes = res.body.size()});
  }

  // The request counter and latency histogram for (route, method, status), cached per thread
  // so the hot path takes no lock and builds no label strings after the first request.
  // Unknown methods share one label so clients cannot grow the label set without bound.
  std::pair<metrics::Counter*, metrics::Histogram*> request_metrics(const Request& req, int status) {
    static const std::array<std::string, 8> kMethods{"GET",   "HEAD",   "POST",    "PUT",
                                                     "PATCH", "DELETE", "OPTIONS", "OTHER"};
    std::size_t method = 7;
    for (std::size_t m = 0; m < 7; ++m)
      if (req.method == kMethods[m]) method = m;
    struct Key {
      const void* owner;
      const Route* route;
      int status;
      std::size_t method;
      bool operator==(const Key&) const = default;
    };
    struct KeyHash {
      std::size_t operator()(const Key& k) const noexcept {
        return std::hash<const void*>{}(k.route) ^ (static_cast<std::size_t>(k.status) << 3) ^ (k.method << 13) ^
               std::hash<const void*>{}(k.owner);
      }
    };
    thread_local std::unordered_map<Key, std::pair<metrics::Counter*, metrics::Histogram*>, KeyHash> cache;
    Key key{this, req.route, status, method};
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    const std::string& tmpl = req.route ? req.route->path : kNoRoute;
    std::pair<metrics::Counter*, metrics::Histogram*> found{
        &requests_total->with({kMethods[method], tmpl, std::to_string(status)}),
        &request_duration->with({kMethods[method], tmpl})};
    cache.emplace(key, found);
    return found;
  }
  static inline const std::string kNoRoute = "-";

  // Standard endpoints.
  void add_standard_routes();
  Response health();
  Response ready();
  Response detailed_health();
  Response docs_page() const;
  Response docs_asset(const Request& req) const;
};

void Service::Impl::add_standard_routes() {
  router.add({.method = "GET", .path = "/health", .limit = "none", .handler = [this](Request&) { return health(); }});
  router.add(
      {.method = "GET", .path = "/health/ready", .limit = "none", .handler = [this](Request&) { return ready(); }});
  for (const auto& alias : info.liveness_aliases)
    router.add({.method = "GET", .path = alias, .limit = "none", .handler = [this](Request&) { return health(); }});
  for (const auto& alias : info.readiness_aliases)
    router.add({.method = "GET", .path = alias, .limit = "none", .handler = [this](Request&) { return ready(); }});
  if (!info.detailed_health_path.empty())
    router.add({.method = "GET", .path = info.detailed_health_path, .limit = "none", .handler = [this](Request&) {
                  return detailed_health();
                }});
  router.add({.method = "GET", .path = "/metrics", .limit = "none", .handler = [this](Request&) {
                return Response::text(registry.render(), "text/plain; version=0.0.4; charset=utf-8");
              }});
  router.add({.method = "GET",
              .path = info.openapi_json_path,
              .limit = std::string(kStaticLimit),
              .handler = [this](Request&) {
                Response r = Response::text(openapi_json, "application/json");
                r.headers.add("Cache-Control", "public, max-age=300");
                return r;
              }});
  if (!info.openapi_yaml_path.empty())
    router.add(
        {.method = "GET",
         .path = info.openapi_yaml_path,
         .limit = std::string(kStaticLimit),
         .handler = [this](Request&) { return Response::text(std::string(info.openapi_yaml), "application/yaml"); }});
  router.add({.method = "GET", .path = info.docs_path, .limit = std::string(kStaticLimit), .handler = [this](Request&) {
                return docs_page();
              }});
  router.add({.method = "GET",
              .path = info.docs_path + "/{asset}",
              .limit = std::string(kStaticLimit),
              .handler = [this](Request& r) { return docs_asset(r); }});
}

Response Service::Impl::health() {
  boost::json::object body;
  body["status"] = "ok";
  body["service"] = info.name;
  body["version"] = PLATFORM_VERSION;
  body["uptime"] = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
  if (health_extra)
    for (auto& kv : health_extra()) body[kv.key()] = kv.value();
  return info.style == ResponseStyle::Envelope ? envelope_ok(std::move(body)) : Response::json(body);
}

Response Service::Impl::ready() {
  boost::json::object checks;
  bool all = true;
  for (const auto& [name, check] : readiness) {
    bool ok = false;
    try {
      ok = check();
    } catch (const std::exception&) {
    }
    checks[name] = ok ? "ok" : "failing";
    all = all && ok;
  }
  if (!all) {
    std::string failing;
    for (const auto& kv : checks)
      if (kv.value() == "failing") failing += (failing.empty() ? "" : ", ") + std::string(kv.key());
    return error_response(info.style, ApiError(503, "not ready: " + failing));
  }
  boost::json::object body{{"status", "ready"}, {"checks", checks}};
  return info.style == ResponseStyle::Envelope ? envelope_ok(std::move(body)) : Response::json(body);
}

Response Service::Impl::detailed_health() {
  boost::json::object components;
  bool all = true;
  for (const auto& [name, check] : readiness) {
    auto begin = std::chrono::steady_clock::now();
    bool ok = false;
    try {
      ok = check();
    } catch (const std::exception&) {
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
    components[name] = {{"status", ok ? "healthy" : "unhealthy"}, {"latency_ms", std::round(ms * 1000) / 1000}};
    all = all && ok;
  }
  boost::json::object body;
  body["status"] = all ? "healthy" : "unhealthy";
  body["service"] = info.name;
  body["version"] = PLATFORM_VERSION;
  body["uptime"] = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
  body["components"] = std::move(components);
  body["connections"] = server ? server->open_connections() : 0;
  body["resident_memory_bytes"] = resident_bytes();
  int status = all ? 200 : 503;
  return info.style == ResponseStyle::Envelope ? envelope_ok(std::move(body), status) : Response::json(body, status);
}

Response Service::Impl::docs_page() const {
  std::string html = fmt::format(R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{0} API</title>
<link rel="stylesheet" href="{1}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{1}/swagger-ui-bundle.js"></script>
<script src="{1}/init.js"></script>
</body>
</html>
)",
                                 info.name, info.docs_path);
  Response r = Response::text(std::move(html), "text/html; charset=utf-8");
  r.headers.add("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  return r;
}

Response Service::Impl::docs_asset(const Request& req) const {
  auto name = req.param("asset");
  if (name == "init.js") {
    return Response::text(fmt::format("window.ui = SwaggerUIBundle({{ url: \"{}\", dom_id: \"#swagger-ui\", "
                                      "deepLinking: true }});\n",
                                      info.openapi_json_path),
                          "application/javascript; charset=utf-8");
  }
  for (const auto& file : swagger_ui_assets()) {
    if (file.name != name) continue;
    const char* type = name.ends_with(".css") ? "text/css; charset=utf-8" : "application/javascript; charset=utf-8";
    Response r = Response::text(std::string(file.data), type);
    r.headers.add("Cache-Control", "public, max-age=86400");
    return r;
  }
  throw ApiError::not_found("no such documentation asset");
}

Service::Service(ServiceInfo info, Config config) : impl_(std::make_unique<Impl>(std::move(info), std::move(config))) {
  auto& i = *impl_;
  const auto& c = i.config;
  i.data_dir = c.get("DATA_DIR");
  std::string env = c.get("APP_ENV");
  if (env != "development" && env != "production" && env != "test")
    throw ConfigError("APP_ENV must be development, production or test (got '" + env + "')");
  i.production = env == "production";
  if (!log::set_level(c.get("LOG_LEVEL"))) throw ConfigError("LOG_LEVEL must be debug, info, warn or error");
  for (auto& o : c.get_list("CORS_ALLOWED_ORIGINS")) {
    if (o == "*")
      i.cors_any = true;
    else
      i.cors_origins.push_back(o);
  }
  i.proxies = TrustedProxies::parse(c.get("TRUST_PROXY"));
  if (!i.info.rate_limit_env.empty())
    i.global_limit = std::make_unique<RateLimiter>(c.get_limit(i.info.rate_limit_env));
  i.limit_classes[std::string(kStaticLimit)] = std::make_unique<RateLimiter>(c.get_limit("STATIC_RATE_LIMIT"));

  auto& o = i.server_options;
  o.host = c.get(i.info.host_env);
  o.port = static_cast<std::uint16_t>(c.get_int(i.info.port_env, 0, 65535));
  o.max_header_bytes = static_cast<std::size_t>(c.get_int("HTTP_MAX_HEADER_BYTES", 1024, 1 << 20));
  o.default_body_limit = static_cast<std::size_t>(c.get_int("HTTP_MAX_BODY_BYTES", 1024, std::int64_t{1} << 32));
  o.header_timeout = std::chrono::seconds(c.get_int("HTTP_HEADER_TIMEOUT_S", 1, 3600));
  o.body_timeout = std::chrono::seconds(c.get_int("HTTP_BODY_TIMEOUT_S", 1, 3600));
  o.max_connections = static_cast<std::size_t>(c.get_int("HTTP_MAX_CONNECTIONS", 1, 1'000'000));
  o.io_threads = static_cast<int>(c.get_int("HTTP_THREADS", 0, 256));
  o.worker_threads = static_cast<int>(c.get_int("WORKER_THREADS", 0, 256));
  o.shutdown_grace = std::chrono::seconds(c.get_int("SHUTDOWN_GRACE_S", 0, 3600));
  if (c.is_set("TLS_CERT_FILE") != c.is_set("TLS_KEY_FILE"))
    throw ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
  if (c.is_set("TLS_CERT_FILE")) use_tls(read_file(c.get("TLS_CERT_FILE")), read_file(c.get("TLS_KEY_FILE")));

  const std::string& p = i.info.metrics_prefix;
  i.requests_total = &i.registry.counter(p + "_http_requests_total", "HTTP requests by method, route and status",
                                         {"method", "path", "status"});
  i.request_duration = &i.registry.histogram(p + "_http_request_duration_seconds",
                                             "HTTP request latency by method and route", {"method", "path"});
  i.requests_in_flight = &i.registry.gauge(p + "_http_requests_in_flight", "HTTP requests being handled").with({});
  i.rate_limited = &i.registry.counter(p + "_rate_limited_total", "Requests refused by a rate limit", {"class"});
  i.registry.gauge_callback(p + "_http_open_connections", "Open client connections", [this] {
    return impl_->server ? static_cast<double>(impl_->server->open_connections()) : 0.0;
  });
  i.jobs = std::make_unique<JobLanes>(&i.registry, p);
  auto ws_gauge = [this, &i, &p](const char* name, const char* help, auto field) {
    i.registry.gauge_callback(p + name, help, [this, field] {
      return impl_->server ? static_cast<double>(impl_->server->websocket_stats().*field) : 0.0;
    });
  };
  ws_gauge("_websocket_open_connections", "Open WebSocket connections", &WebSocketStats::open);
  ws_gauge("_websocket_messages_received", "WebSocket messages received since start", &WebSocketStats::messages_in);
  ws_gauge("_websocket_messages_sent", "WebSocket messages sent since start", &WebSocketStats::messages_out);
  ws_gauge("_websocket_slow_readers_dropped", "WebSocket connections closed because their send queue overflowed",
           &WebSocketStats::dropped_slow);
  ws_gauge("_websocket_upgrades_refused", "WebSocket upgrades refused by the connection caps",
           &WebSocketStats::refused);
  i.registry.gauge_callback("process_resident_memory_bytes", "Resident memory size in bytes", resident_bytes);
  i.registry.gauge_callback("process_start_time_seconds", "Start time of the process since the unix epoch in seconds",
                            [t = i.started_unix] { return static_cast<double>(t); });

  try {
    auto doc = yaml_to_json(i.info.openapi_yaml);
    i.openapi_json = boost::json::serialize(doc);
    if (doc.is_object()) i.body_shapes = openapi_body_shapes(doc.as_object());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("embedded OpenAPI document is invalid: ") + e.what());
  }
  i.add_standard_routes();
}

Service::~Service() = default;

const ServiceInfo& Service::info() const { return impl_->info; }
const Config& Service::config() const { return impl_->config; }
const std::filesystem::path& Service::data_dir() const { return impl_->data_dir; }
bool Service::production() const { return impl_->production; }
metrics::Registry& Service::metrics() { return impl_->registry; }
const Router& Service::router() const { return impl_->router; }

void Service::add(Route route) {
  if (route.auth != "public" && !impl_->auth_schemes.count(route.auth))
    throw std::invalid_argument("route " + route.method + " " + route.path + " names unknown auth '" + route.auth +
                                "'");
  if (route.limit != "none" && route.limit != "default" && !impl_->limit_classes.count(route.limit))
    throw std::invalid_argument("route " + route.method + " " + route.path + " names unknown limit '" + route.limit +
                                "'");
  std::string documented = route.path;  // {name*} is documented as {name}
  if (documented.ends_with("*}")) documented.erase(documented.size() - 2, 1);
  if (auto found = impl_->body_shapes.find({route.method, documented}); found != impl_->body_shapes.end())
    route.body_shape = found->second;
  impl_->router.add(std::move(route));
}

void Service::add(std::vector<Route> routes) {
  for (auto& r : routes) add(std::move(r));
}

void Service::auth_scheme(std::string name, std::function<void(Request&)> authenticate) {
  auth_scheme(std::move(name),
              [authenticate = std::move(authenticate)](Request& req, const Route&) { authenticate(req); });
}

void Service::auth_scheme(std::string name, std::function<void(Request&, const Route&)> authenticate) {
  impl_->auth_schemes[std::move(name)] = std::move(authenticate);
}

void Service::limit_class(std::string name, LimitSpec spec) {
  impl_->limit_classes[std::move(name)] = std::make_unique<RateLimiter>(spec);
}

void Service::readiness_check(std::string name, std::function<bool()> check) {
  impl_->readiness.emplace_back(std::move(name), std::move(check));
}

void Service::health_fields(std::function<boost::json::object()> fields) { impl_->health_extra = std::move(fields); }

namespace {

// The advisory-lock key of a service's jobs: FNV-1a of "jobs:<service>".
std::int64_t job_lock_key(std::string_view service) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : "jobs:" + std::string(service)) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<std::int64_t>(hash);
}

}  // namespace

store::Database& Service::open_database(const std::string& file, std::span<const EmbeddedFile> migrations,
                                        std::span<const LibraryMigration> libraries) {
  auto& i = *impl_;
  std::vector<store::Migration> list;
  if (!i.info.postgres_migrations.empty() && i.config.is_set("DATABASE_URL")) {
    list = open_postgres(libraries);
  } else {
    i.database = std::make_unique<store::Database>(i.data_dir / file);
    list = migrate_service(*i.database, migrations, libraries);
  }
  auto& db = *i.database;
  auto& histogram = i.registry
                        .histogram(i.info.metrics_prefix + "_db_query_duration_seconds",
                                   "Time spent in database read and write blocks")
                        .with({});
  db.set_query_observer([&histogram](double seconds) { histogram.observe(seconds); });
  readiness_check("database", [&db] { return db.ping(); });
  on_shutdown([&db] { db.checkpoint(); });
  log::info("database ready", {{"backend", db.postgres() ? "postgresql" : "sqlite"},
                               {"path", db.postgres() ? "" : db.path().string()},
                               {"schema_version", list.empty() ? 0 : list.back().version}});
  return db;
}

std::vector<store::Migration> Service::open_postgres(std::span<const LibraryMigration> libraries) {
  auto& i = *impl_;
  const std::string url = i.config.get("DATABASE_URL");
  if (!store::pg::is_postgres_url(url)) throw ConfigError("DATABASE_URL must be a postgres:// or postgresql:// URL");
  if (!libraries.empty()) throw ConfigError("DATABASE_URL: this service's libraries have no PostgreSQL schema yet");
  store::pg::PoolOptions pool;
  pool.size = static_cast<int>(i.config.get_int("DATABASE_POOL_SIZE", 1, 1000));
  pool.statement_timeout_ms = static_cast<int>(i.config.get_int("DATABASE_STATEMENT_TIMEOUT_MS", 0, 86'400'000));
  i.database = std::make_unique<store::Database>(store::PostgresTarget{url, pool});
  auto list = store::migrations_from_files(i.info.postgres_migrations);
  i.database->migrate(list);
  i.job_leadership = std::make_unique<store::pg::Leadership>(url, job_lock_key(i.info.name));
  i.registry.gauge_callback(i.info.metrics_prefix + "_job_leader", "1 on the replica that runs the single-replica jobs",
                            [&i] { return i.job_leader.load() ? 1.0 : 0.0; });
  i.jobs->add("job-leader-election", std::chrono::seconds(2), [&i] {
    const bool leading = i.job_leadership->try_lead();
    if (leading != i.job_leader.exchange(leading))
      log::info(leading ? "leading the single-replica jobs" : "no longer leading the single-replica jobs");
  });
  return list;
}

bool Service::postgres() const { return impl_->database && impl_->database->postgres(); }

std::string Service::secret(std::string_view env, const std::function<std::string()>& make) {
  bool generated = false;
  std::string value = resolve_secret(impl_->config, env, impl_->data_dir, impl_->production, make, &generated);
  if (generated)
    log::warn("using a generated development secret; set it explicitly for production",
              {{"setting", env}, {"file", (impl_->data_dir / "secrets" / std::string(env)).string()}});
  return value;
}

std::string Service::signing_secret(std::string_view env) {
  std::string value = secret(env, [] { return security::random_token(48); });
  if (value.size() < 32) throw ConfigError(std::string(env) + " must be at least 32 bytes");
  return value;
}

std::string Service::encryption_key(std::string_view env) {
  std::string hex = secret(env, [] { return security::random_hex(32); });
  auto key = security::parse_key_hex32(hex);
  if (!key) throw ConfigError(std::string(env) + " must be 64 hex characters (32 bytes)");
  return *key;
}

void Service::use_tls(std::string certificate_pem, std::string private_key_pem) {
  impl_->server_options.tls_certificate_pem = std::move(certificate_pem);
  impl_->server_options.tls_private_key_pem = std::move(private_key_pem);
}

void Service::every(std::string name, std::chrono::seconds interval, std::function<void()> job) {
  impl_->jobs->add(std::move(name), std::max(interval, std::chrono::seconds(1)), std::move(job));
}

void Service::leader_every(std::string name, std::chrono::seconds interval, std::function<void()> job) {
  if (!impl_->job_leadership) return every(std::move(name), interval, std::move(job));
  every(std::move(name), interval, [&leader = impl_->job_leader, job = std::move(job)] {
    if (leader.load()) job();
  });
}

void Service::websocket_caps(std::size_t max_connections, std::size_t max_per_ip) {
  impl_->server_options.websocket_max_connections = max_connections;
  impl_->server_options.websocket_max_per_ip = max_per_ip;
}

void Service::keep(std::shared_ptr<void> object) { impl_->owned.push_back(std::move(object)); }

void Service::on_shutdown(std::function<void()> hook) { impl_->shutdown_hooks.push_back(std::move(hook)); }

void Service::post_work(std::function<void()> work) {
  if (impl_->server)
    impl_->server->post_work(std::move(work));
  else
    work();
}

std::vector<std::string> Service::check_openapi() const {
  auto doc = yaml_to_json(impl_->info.openapi_yaml);
  std::vector<std::string> problems;
  if (!doc.is_object()) return {"the OpenAPI document is not an object"};
  auto* version = doc.as_object().if_contains("openapi");
  if (!version || !version->is_string() || !version->as_string().starts_with("3.1"))
    problems.push_back("the document must declare openapi: 3.1.x");
  for (auto& p : openapi_mismatches(impl_->router.routes(), doc.as_object())) problems.push_back(std::move(p));
  // An absolute server URL sends "Try it out" to another origin (blocked by the docs page's
  // CSP) or to another instance; a relative one reaches whoever served the page.
  if (auto* servers = doc.as_object().if_contains("servers"); servers && servers->is_array())
    for (const auto& server : servers->as_array())
      if (auto* url = server.is_object() ? server.as_object().if_contains("url") : nullptr;
          !url || !url->is_string() || !url->as_string().starts_with("/"))
        problems.push_back("servers: every url must be relative to the document (e.g. \"/\"), not " +
                           (url ? boost::json::serialize(*url) : std::string("missing")));
  return problems;
}

int Service::run() {
  auto& i = *impl_;
  {
    std::lock_guard lock(i.server_mutex);
    i.server = std::make_unique<HttpServer>(i.server_options, i);
    if (i.stop_requested) i.server->stop();  // runs once the server serves
  }
  std::uint16_t port = i.server->listen();
  std::string scheme = i.server->tls() ? "https" : "http";
  std::string host =
      i.server_options.host.find(':') != std::string::npos ? "[" + i.server_options.host + "]" : i.server_options.host;
  log::info("listening", {{"url", fmt::format("{}://{}:{}", scheme, host, port)},
                          {"docs", fmt::format("{}://{}:{}{}", scheme, host, port, i.info.docs_path)},
                          {"routes", i.router.routes().size()},
                          {"client_address", i.proxies.describe()}});
  i.jobs->start();
  i.server->run();
  i.jobs->stop();
  for (auto it = i.shutdown_hooks.rbegin(); it != i.shutdown_hooks.rend(); ++it) {
    try {
      (*it)();
    } catch (const std::exception& e) {
      log::error("shutdown step failed", {{"error", e.what()}});
    }
  }
  {
    std::lock_guard lock(i.server_mutex);
    i.server.reset();
  }
  log::info("stopped");
  return 0;
}

void Service::stop() {
  std::lock_guard lock(impl_->server_mutex);
  impl_->stop_requested = true;
  if (impl_->server) impl_->server->stop();
}

int run_service(ServiceInfo info, int argc, char** argv, const std::function<void(Service&)>& setup) {
  log::set_service(info.name);
  const std::string program = info.name;
  Config config(info.name, info.summary);
  config.declare(info.options);  // first: a service may override the common defaults below
  config.declare({
      {info.host_env, "127.0.0.1", "address to listen on"},
      {info.port_env, std::to_string(info.default_port), "port to listen on"},
      {"DATA_DIR", "./data/" + info.name, "directory for the database and generated files"},
      {"APP_ENV", "development", "development, production (missing secrets are errors) or test"},
      {"LOG_LEVEL", "info", "debug, info, warn or error"},
      {"CORS_ALLOWED_ORIGINS", "", "comma-separated origins allowed to call the API from a browser (* for any)"},
      {"TRUST_PROXY", "false",
       "behind a reverse proxy: the number of proxy hops in front (true = 1) or their addresses/CIDRs, "
       "comma separated; the client IP is then read from X-Forwarded-For, right to left (false = ignore it)"},
      {"TLS_CERT_FILE", "", "PEM certificate chain; with TLS_KEY_FILE serves HTTPS"},
      {"TLS_KEY_FILE", "", "PEM private key file for TLS_CERT_FILE"},
      {"HTTP_MAX_HEADER_BYTES", "16384", "largest request line plus headers (431 beyond)"},
      {"HTTP_MAX_BODY_BYTES", "1048576", "default largest request body (413 beyond)"},
      {"HTTP_HEADER_TIMEOUT_S", "15", "seconds to wait for a complete request header, idle time included"},
      {"HTTP_BODY_TIMEOUT_S", "60", "seconds to receive a request body"},
      {"HTTP_MAX_CONNECTIONS", "10000", "open connections beyond which new ones are closed"},
      {"HTTP_THREADS", "0", "I/O threads (0 = one per core)"},
      {"WORKER_THREADS", "0", "threads for blocking work such as password hashing (0 = one per core)"},
      {"SHUTDOWN_GRACE_S", "10", "seconds in-flight requests get to finish after SIGTERM"},
      {"STATIC_RATE_LIMIT", "300/min:100",
       "per-IP limit for documentation and static assets (/docs, the OpenAPI document), apart from the API's"},
  });
  if (!info.postgres_migrations.empty())
    config.declare({
        {"DATABASE_URL", "",
         "postgres://user:password@host:5432/db: PostgreSQL shared by several replicas (unset = SQLite in DATA_DIR)",
         true},
        {"DATABASE_POOL_SIZE", "8", "PostgreSQL connections per replica"},
        {"DATABASE_STATEMENT_TIMEOUT_MS", "30000", "longest PostgreSQL statement in milliseconds (0 = none)"},
    });
  if (!info.rate_limit_env.empty())
    config.declare(
        {info.rate_limit_env, info.default_rate_limit, "service-wide limit per client IP (N/s, N/min, N/h, :burst)"});

  try {
    auto parsed = config.parse(argc, argv);
    if (parsed.help) {
      std::cout << config.usage();
      return 0;
    }
    if (parsed.version) {
      std::cout << info.name << " " << PLATFORM_VERSION << "\n";
      return 0;
    }
    if (!parsed.positional.empty()) throw ConfigError("unexpected argument '" + parsed.positional.front() + "'");
    if (parsed.check_openapi) {
      // Route tables are built without opening storage or listening.
      config.set("LOG_LEVEL", "error");
      config.set("DATA_DIR",
                 (std::filesystem::temp_directory_path() / ("openapi-check-" + std::to_string(getpid()))).string());
    }
    Service service(std::move(info), std::move(config));
    if (!parsed.check_openapi) {
      boost::json::object effective;
      for (auto& [k, v] : service.config().effective()) effective[k] = v;
      log::info("starting", {{"version", PLATFORM_VERSION}, {"config", effective}});
      for (const auto& warning : service.config().warnings()) log::warn(warning);
    }
    setup(service);
    if (parsed.check_openapi) {
      std::filesystem::remove_all(service.data_dir());
      auto problems = service.check_openapi();
      for (const auto& p : problems) std::cout << p << "\n";
      std::cout << (problems.empty() ? "route table and OpenAPI document agree (" : "mismatches found (")
                << service.router().routes().size() << " routes)\n";
      return problems.empty() ? 0 : 1;
    }
    return service.run();
  } catch (const ConfigError& e) {
    std::cerr << program << ": configuration error: " << e.what() << "\n";
    log::error("configuration error", {{"error", e.what()}});
    return 2;
  } catch (const std::exception& e) {
    log::error("fatal error", {{"error", e.what()}});
    return 1;
  }
}

}  // namespace common
