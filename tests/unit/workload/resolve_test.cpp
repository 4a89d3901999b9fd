#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "workload/egg.hpp"
#include "workload/resolve.hpp"

using namespace workload;

namespace {

std::vector<FieldError> resolve_errors(const Workload& w, const std::map<std::string, std::string>& values) {
  try {
    resolve(w, values, {});
  } catch (const SpecError& e) {
    return e.errors();
  }
  return {};
}

Workload paper() {
  return import_egg(read_text(workload_source("libs/workload/eggs/pterodactyl-panel__egg-paper.json"))).workload;
}

}  // namespace

TEST_CASE("defaults and user values make the environment and the command") {
  InstanceContext ctx{"inst-1", "10.0.0.5", 25570, {}, 2048};
  auto r = resolve(paper(), {{"SERVER_JARFILE", "paper.jar"}}, ctx);
  CHECK(r.env.at("SERVER_JARFILE") == "paper.jar");
  CHECK(r.env.at("BUILD_NUMBER") == "latest");
  CHECK(r.env.at("SERVER_PORT") == "25570");
  CHECK(r.env.at("SERVER_IP") == "10.0.0.5");
  CHECK(r.env.at("SERVER_MEMORY") == "2048");
  CHECK(r.env.at("SERVER_UUID") == "inst-1");
  CHECK(r.command.back().ends_with("-jar paper.jar"));
  CHECK(r.env.at("STARTUP") == r.command.back());
  REQUIRE(r.config_files.size() == 1);
  CHECK(r.config_files[0].replace[1] == Replacement{"server-port", std::nullopt, "25570"});
}

TEST_CASE("rules are enforced with errors naming the variable") {
  auto w = paper();
  CHECK(resolve_errors(w, {{"SERVER_JARFILE", "paper.zip"}}) ==
        std::vector<FieldError>{{"SERVER_JARFILE", "must match /^([\\w\\d._-]+)(\\.jar)$/"}});
  CHECK(resolve_errors(w, {{"BUILD_NUMBER", "this-is-far-more-than-twenty"}})[0] ==
        FieldError{"BUILD_NUMBER", "must be at most 20 characters"});
  CHECK(resolve_errors(w, {{"NOT_A_VARIABLE", "1"}})[0].field == "NOT_A_VARIABLE");
  CHECK(resolve_errors(w, {{"DL_PATH", "http://elsewhere"}})[0] ==
        FieldError{"DL_PATH", "cannot be changed (Download Path is not user-editable)"});
  CHECK(resolve_errors(w, {{"SERVER_JARFILE", ""}})[0] == FieldError{"SERVER_JARFILE", "is required"});
  CHECK_NOTHROW(check_variables(w.spec, {{"MINECRAFT_VERSION", "1.21"}}));
  CHECK_THROWS_AS(check_variables(w.spec, {{"MINECRAFT_VERSION", std::string(21, 'x')}}), SpecError);
}

TEST_CASE("config placeholders resolve: ports by name, env, node interface") {
  auto w = parse_workload(R"(apiVersion: shardlyn/v1
kind: Workload
metadata: {name: t}
spec:
  command: [run, "{{ LEVEL }}"]
  ports: [{name: game, containerPort: 7777}, {name: rcon, containerPort: 7778}]
  env: {FIXED: "yes"}
  variables: [{name: Level, env: LEVEL, default: world}]
  configFiles:
    - path: c.ini
      parser: ini
      replace: {a: "{{server.ports.rcon}}", b: "{{env.LEVEL}}-{{FIXED}}", c: "{{node.interface}}", d: "{{server.memory}}M"}
)");
  InstanceContext ctx{"i", "0.0.0.0", 30000, {{"game", 30000}, {"rcon", 30001}}, 512, 0, "172.18.0.1"};
  auto r = resolve(w, {}, ctx);
  CHECK(r.command == std::vector<std::string>{"run", "world"});
  const auto& rep = r.config_files[0].replace;
  CHECK(rep[0].value == "30001");
  CHECK(rep[1].value == "world-yes");
  CHECK(rep[2].value == "172.18.0.1");
  CHECK(rep[3].value == "512M");
  CHECK(r.env.at("FIXED") == "yes");
}
