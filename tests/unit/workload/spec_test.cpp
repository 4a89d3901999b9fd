#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "workload/spec.hpp"

using namespace workload;
using namespace std::chrono_literals;

namespace {

std::vector<FieldError> errors_of(const std::string& text) {
  try {
    parse_workload(text);
  } catch (const SpecError& e) {
    return e.errors();
  }
  return {};
}

std::string with_spec(const std::string& spec) {
  return "apiVersion: shardlyn/v1\nkind: Workload\nmetadata: {name: a}\nspec: " + spec + "\n";
}

}  // namespace

TEST_CASE("the spec's own example parses into typed records") {
  auto w = parse_workload(read_text(workload_source("tests/unit/workload/examples/valid/echo.yaml")));
  CHECK(w.metadata.name == "echo");
  CHECK(w.metadata.labels.at("app") == "echo");
  const auto& s = w.spec;
  CHECK(s.image == "localhost/busybox:test");
  CHECK(s.command.size() == 3);
  CHECK(s.env.at("KEY") == "value");
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0] == Port{"game", 25565, Protocol::Tcp});
  CHECK(s.resources.requests.cpu_millis == 500);
  CHECK(s.resources.requests.memory_bytes == 512LL << 20);
  CHECK(s.resources.requests.disk_bytes == 1LL << 30);
  CHECK(s.resources.limits.cpu_millis == 2000);
  CHECK(s.resources.limits.memory_bytes == 2LL << 30);
  CHECK_FALSE(s.resources.limits.disk_bytes);
  CHECK(s.restart_policy == RestartPolicy{RestartMode::OnFailure, 3, 10min, 5s, 2.0});
  CHECK(s.stop_timeout == 30s);
  REQUIRE(s.startup.done.size() == 2);
  CHECK(s.startup.done[0] == DoneMarker{"Server ready", false});
  CHECK(s.startup.done[1] == DoneMarker{"^Done \\(", true});
  CHECK(s.startup.timeout == 5min);
  REQUIRE(s.healthcheck);
  CHECK(s.healthcheck->tcp == "game");
  CHECK(s.stop.command == "quit");
  REQUIRE(s.install);
  CHECK(s.install->script == "echo install");
  REQUIRE(s.variables.size() == 1);
  CHECK(s.variables[0].env == "MAX_PLAYERS");
  CHECK(s.variables[0].rules == std::vector<std::string>{"required", "integer"});
  REQUIRE(s.config_files.size() == 1);
  CHECK(s.config_files[0].parser == ConfigParser::Properties);
  CHECK(s.config_files[0].replace[0] == Replacement{"server-port", std::nullopt, "{{server.port}}"});
}

TEST_CASE("defaults apply to what a spec leaves out") {
  auto w = parse_workload(
      R"({"apiVersion":"shardlyn/v1","kind":"Workload","metadata":{"name":"t"},"spec":{"command":["x"]}})");
  CHECK(w.spec.stop_timeout == 30s);
  CHECK(w.spec.startup.timeout == 5min);
  CHECK(w.spec.restart_policy == RestartPolicy{});
  CHECK(w.spec.stop == Stop{});
}

TEST_CASE("errors name the field") {
  CHECK(errors_of(with_spec("{command: [x], stopTimeout: soon}")) ==
        std::vector<FieldError>{{"spec.stopTimeout", "must be a duration (e.g. 30s, 5m, 1h30m)"}});
  CHECK(errors_of(with_spec("{command: [x], ports: [{name: g, containerPort: 0}]}"))[0].field ==
        "spec.ports[0].containerPort");
  CHECK(errors_of(with_spec("{command: [x], stop: {}}"))[0].field == "spec.stop");
  CHECK(errors_of(with_spec("{command: [x], restartPolicy: {backoff: 20}}"))[0].field == "spec.restartPolicy.backoff");
  CHECK(errors_of(with_spec("{command: [x], configFiles: [{path: a, parser: ini, replace: {k: [1]}}]}"))[0].field ==
        "spec.configFiles[0].replace.k");
  CHECK(errors_of("apiVersion: shardlyn/v1\nkind: Pod\nmetadata: {name: a}\nspec: {command: [x]}")[0].field == "kind");
  CHECK(errors_of("[1, 2")[0].field == "document");
  CHECK(errors_of("")[0] == FieldError{"document", "is empty"});
}

TEST_CASE("every problem of a document is reported at once") {
  auto errors =
      errors_of(with_spec("{command: [x], stopTimeout: soon, ports: [{name: '', containerPort: 1}], extra: 1}"));
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  CHECK(fields == std::vector<std::string>{"spec.extra", "spec.ports[0].name", "spec.stopTimeout"});
}

TEST_CASE("export round-trips through JSON and YAML") {
  for (const char* file : {"valid/echo.yaml", "valid/minimal.json", "valid/signal_and_cases.yaml"}) {
    INFO(file);
    auto original = parse_workload(read_text(workload_source(std::string("tests/unit/workload/examples/") + file)));
    CHECK(parse_workload(to_json_text(original)) == original);
    CHECK(parse_workload(to_yaml(original)) == original);
    CHECK(to_yaml(parse_workload(to_yaml(original))) == to_yaml(original));
  }
}

TEST_CASE("strings that look like other YAML types survive export") {
  auto w = parse_workload(
      with_spec("{command: ['true', '0123', 'null', '', ' lead', 'a: b', \"line\\r\\nbreak\", \"two\\nlines\\n\"], "
                "env: {YES: 'yes', N: '1e3'}}"));
  CHECK(parse_workload(to_yaml(w)) == w);
  CHECK(parse_workload(to_json_text(w)) == w);
}

TEST_CASE("signals and parsers have names") {
  CHECK(signal_number("SIGINT") == 2);
  CHECK(signal_number("SIGTERM") == 15);
  CHECK(signal_number("INT") == 0);
  CHECK(config_parser_from("yml") == ConfigParser::Yaml);
  CHECK_FALSE(config_parser_from("toml"));
}
