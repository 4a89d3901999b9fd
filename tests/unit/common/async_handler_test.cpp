// Asynchronous route handlers: a running service on 127.0.0.1 whose routes answer later from
// another thread, answer at once, throw before answering, or answer twice (the second is dropped).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

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

std::uint16_t unused_port() {
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

common::Route async_route(std::string path, common::AsyncHandler handler) {
  return {.method = "GET", .path = std::move(path), .async_handler = std::move(handler)};
}

}  // namespace

TEST_CASE("service: an asynchronous handler answers later, from any thread, exactly once", "[common][service]") {
  auto port = unused_port();
  auto dir = std::filesystem::temp_directory_path() / ("async-test-" + std::to_string(::getpid()));
  ::setenv("ASYNC_TEST_PORT", std::to_string(port).c_str(), 1);
  ::setenv("DATA_DIR", dir.c_str(), 1);
  ::setenv("LOG_LEVEL", "error", 1);
  common::ServiceInfo info{.name = "async-test",
                           .summary = "async test",
                           .metrics_prefix = "async_test",
                           .style = common::ResponseStyle::Bare,
                           .host_env = "ASYNC_TEST_HOST",
                           .port_env = "ASYNC_TEST_PORT",
                           .openapi_yaml = "openapi: 3.1.0\ninfo: {title: async-test, version: '1'}\npaths: {}\n"};
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
