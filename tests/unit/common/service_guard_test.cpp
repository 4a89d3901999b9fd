// The guard a route declares reaches its authenticator: a running service on 127.0.0.1 with one
// route-aware authenticator shared by several routes, driven over HTTP by libcommon's client;
// and asynchronous handlers on such a service.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <any>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "common/http_client.hpp"
#include "common/service.hpp"

namespace {

// A port free at the time of asking (the kernel's choice for port 0).
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

common::OutboundResponse get(std::uint16_t port, const std::string& path, const std::string& token = "") {
  common::OutboundRequest request{.url = "http://127.0.0.1:" + std::to_string(port) + path};
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  return common::send(request);
}

// A test service on `port` (its settings in the environment under `env`_*, DATA_DIR `dir`),
// serving an empty document.
common::ServiceInfo test_service(const std::string& name, const std::string& env, std::uint16_t port,
                                 const std::filesystem::path& dir) {
  ::setenv((env + "_PORT").c_str(), std::to_string(port).c_str(), 1);
  ::setenv("DATA_DIR", dir.c_str(), 1);
  ::setenv("LOG_LEVEL", "error", 1);
  std::string metrics = env;
  for (auto& c : metrics) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {.name = name,
          .summary = name,
          .metrics_prefix = metrics,
          .style = common::ResponseStyle::Bare,
          .host_env = env + "_HOST",
          .port_env = env + "_PORT",
          .openapi_yaml = "openapi: 3.1.0\ninfo: {title: test, version: '1'}\npaths: {}\n"};
}

common::Route async_route(std::string path, common::AsyncHandler handler) {
  return {.method = "GET", .path = std::move(path), .async_handler = std::move(handler)};
}

}  // namespace

TEST_CASE("service: the authenticator receives the matched route with its guard", "[common][service]") {
  auto port = free_port();
  auto dir = std::filesystem::temp_directory_path() / ("guard-test-" + std::to_string(::getpid()));
  auto info = test_service("guard-test", "GUARD_TEST", port, dir);
  std::atomic<common::Service*> running = nullptr;
  int exit_code = -1;
  std::thread server([&] {
    const char* argv[] = {"guard-test", nullptr};
    exit_code = common::run_service(info, 1, const_cast<char**>(argv), [&](common::Service& service) {
      // One authenticator for every guarded route: it reads what the route declares.
      service.auth_scheme("member", [](common::Request& req, const common::Route& route) {
        if (req.bearer_token().value_or("") != "secret") throw common::ApiError::unauthorized();
        if (route.permission == "nodes.delete")
          throw common::ApiError::forbidden("missing permission " + route.permission);
        req.principal = route.scope + "|" + route.permission;
      });
      // The former form, without the route, keeps working.
      service.auth_scheme("plain", [](common::Request& req) {
        if (req.bearer_token().value_or("") != "secret") throw common::ApiError::unauthorized();
        req.principal = std::string("plain");
      });
      auto seen = [](common::Request& req) {
        return common::Response::text(std::any_cast<std::string>(req.principal));
      };
      service.add({.method = "GET",
                   .path = "/v1/orgs/{orgId}/nodes",
                   .auth = "member",
                   .scope = "path",
                   .permission = "nodes.read",
                   .handler = seen});
      service.add({.method = "GET",
                   .path = "/v1/nodes",
                   .auth = "member",
                   .scope = "current",
                   .permission = "nodes.list",
                   .handler = seen});
      service.add(
          {.method = "DELETE", .path = "/v1/nodes", .auth = "member", .permission = "nodes.delete", .handler = seen});
      service.add({.method = "GET", .path = "/v1/plain", .auth = "plain", .handler = seen});
      running.store(&service);
    });
  });
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    up = get(port, "/health").status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(up);

  auto path_scoped = get(port, "/v1/orgs/o-1/nodes", "secret");
  CHECK(path_scoped.status == 200);
  CHECK(path_scoped.body == "path|nodes.read");
  auto current = get(port, "/v1/nodes", "secret");
  CHECK(current.status == 200);
  CHECK(current.body == "current|nodes.list");
  CHECK(get(port, "/v1/nodes", "wrong").status == 401);
  CHECK(common::send({.method = "DELETE",
                      .url = "http://127.0.0.1:" + std::to_string(port) + "/v1/nodes",
                      .headers = {{"Authorization", "Bearer secret"}}})
            .status == 403);
  auto plain = get(port, "/v1/plain", "secret");
  CHECK(plain.status == 200);
  CHECK(plain.body == "plain");

  REQUIRE(running.load() != nullptr);
  running.load()->stop();
  server.join();
  CHECK(exit_code == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("service: stop() before run() makes run() drain as soon as it listens", "[common][service]") {
  auto dir = std::filesystem::temp_directory_path() / ("stop-test-" + std::to_string(::getpid()));
  ::setenv("STOP_TEST_PORT", std::to_string(free_port()).c_str(), 1);
  ::setenv("DATA_DIR", dir.c_str(), 1);
  ::setenv("LOG_LEVEL", "error", 1);
  common::ServiceInfo info{.name = "stop-test",
                           .summary = "stop test",
                           .metrics_prefix = "stop_test",
                           .style = common::ResponseStyle::Bare,
                           .host_env = "STOP_TEST_HOST",
                           .port_env = "STOP_TEST_PORT",
                           .openapi_yaml = "openapi: 3.1.0\ninfo: {title: stop-test, version: '1'}\npaths: {}\n"};
  bool hook_ran = false;
  const char* argv[] = {"stop-test", nullptr};
  // Formerly a no-op here, so run() served until a signal and this case never returned.
  int exit_code = common::run_service(info, 1, const_cast<char**>(argv), [&](common::Service& service) {
    service.on_shutdown([&] { hook_ran = true; });
    std::thread other([&] { service.stop(); });  // from another thread, as a test would
    other.join();
  });
  CHECK(exit_code == 0);
  CHECK(hook_ran);
  std::filesystem::remove_all(dir);
}

// Asynchronous route handlers: answered later from another thread, an error answered later,
// a throw before answering, and a second answer (dropped).
TEST_CASE("service: an asynchronous handler answers later, from any thread, exactly once", "[common][service]") {
  auto port = free_port();
  auto dir = std::filesystem::temp_directory_path() / ("async-test-" + std::to_string(::getpid()));
  auto info = test_service("async-test", "ASYNC_TEST", port, dir);
  std::atomic<common::Service*> running = nullptr;
  std::atomic<int> answered_twice = 0;
  std::thread server([&] {
    const char* argv[] = {"async-test", nullptr};
    common::run_service(info, 1, const_cast<char**>(argv), [&](common::Service& service) {
      service.add(async_route("/later", [](common::Request&, common::Reply reply) {
        std::thread([reply] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          reply([] { return common::Response::text("from another thread"); });
        }).detach();
      }));
      service.add(async_route("/refused-later", [](common::Request&, common::Reply reply) {
        std::thread([reply] { reply([]() -> common::Response { throw common::ApiError::conflict("not now"); }); }).detach();
      }));
      service.add(async_route("/thrown", [](common::Request&, common::Reply) { throw common::ApiError::not_found("none"); }));
      service.add(async_route("/twice", [&answered_twice](common::Request&, common::Reply reply) {
        reply([] { return common::Response::text("first"); });
        reply([&answered_twice] {
          ++answered_twice;
          return common::Response::text("second");
        });
      }));
      running.store(&service);
    });
  });
  auto get = [port](const std::string& path) {
    return common::send({.url = "http://127.0.0.1:" + std::to_string(port) + path});
  };
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    up = running.load() && get("/health").status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(up);

  auto later = get("/later");
  CHECK(later.status == 200);
  CHECK(later.body == "from another thread");
  auto refused = get("/refused-later");
  CHECK(refused.status == 409);
  CHECK(refused.body.find("not now") != std::string::npos);
  CHECK(get("/thrown").status == 404);
  auto twice = get("/twice");
  CHECK(twice.body == "first");
  CHECK(answered_twice == 0);

  running.load()->stop();
  server.join();
  std::filesystem::remove_all(dir);
}
