#include <catch2/catch.hpp>

#include <filesystem>

#include "helpers.hpp"
#include "workload/egg.hpp"

using namespace workload;

namespace {

Workload egg(const std::string& file) {
  return import_egg(read_text(workload_source("libs/workload/eggs/" + file))).workload;
}

const Variable& variable(const Workload& w, const std::string& env) {
  for (const auto& v : w.spec.variables) {
    if (v.env == env) return v;
  }
  FAIL("no variable " << env);
  throw;
}

std::vector<FieldError> egg_errors(const std::string& text) {
  try {
    import_egg(text);
  } catch (const SpecError& e) {
    return e.errors();
  }
  return {};
}

}  // namespace

TEST_CASE("every shipped egg imports and exports again") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(workload_source("libs/workload/eggs"))) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().filename().string());
    auto imported = import_egg(read_text(entry.path()));
    CHECK(imported.format == EggFormat::PtdlV2);
    CHECK(parse_workload(to_yaml(imported.workload)) == imported.workload);
    ++count;
  }
  CHECK(count == 5);
}

TEST_CASE("Paper: images, startup, done marker, stop command, config file, variables") {
  auto w = egg("pterodactyl-panel__egg-paper.json");
  CHECK(w.metadata.name == "Paper");
  CHECK(w.spec.image == "ghcr.io/pterodactyl/yolks:java_21");  // the egg's first image is its default
  CHECK(w.spec.images.size() == 5);
  CHECK(w.spec.command[0] == "/bin/sh");
  CHECK(w.spec.command[2].ends_with("-jar {{SERVER_JARFILE}}"));
  REQUIRE(w.spec.startup.done.size() == 1);
  CHECK(w.spec.startup.done[0] == DoneMarker{")! For help, type ", false});
  CHECK(w.spec.stop == Stop{"stop", ""});
  REQUIRE(w.spec.config_files.size() == 1);
  const auto& file = w.spec.config_files[0];
  CHECK(file.path == "server.properties");
  CHECK(file.parser == ConfigParser::Properties);
  CHECK(file.replace == std::vector<Replacement>{{"server-ip", std::nullopt, "0.0.0.0"},
                                                 {"server-port", std::nullopt, "{{server.port}}"},
                                                 {"query.port", std::nullopt, "{{server.port}}"}});
  CHECK(variable(w, "SERVER_JARFILE").rules ==
        std::vector<std::string>{"required", "regex:/^([\\w\\d._-]+)(\\.jar)$/"});
  CHECK_FALSE(variable(w, "DL_PATH").user_editable);
  CHECK_FALSE(variable(w, "DL_PATH").user_viewable);
  REQUIRE(w.spec.install);
  CHECK(w.spec.install->image == "ghcr.io/pterodactyl/installers:alpine");
  CHECK(w.spec.install->entrypoint == "ash");
  CHECK(w.spec.install->script.starts_with("#!/bin/ash"));
  CHECK(w.spec.features == std::vector<std::string>{"eula", "java_version", "pid_limit"});
}

TEST_CASE("Mumble: ini parser, env placeholder, signal stop") {
  auto w = egg("pterodactyl-panel__egg-mumble-server.json");
  CHECK(w.spec.stop == Stop{"", "SIGINT"});  // ^C
  REQUIRE(w.spec.config_files.size() == 1);
  CHECK(w.spec.config_files[0].parser == ConfigParser::Ini);
  auto& r = w.spec.config_files[0].replace;
  CHECK(std::find(r.begin(), r.end(), Replacement{"port", std::nullopt, "{{server.port}}"}) != r.end());
  CHECK(std::find(r.begin(), r.end(), Replacement{"users", std::nullopt, "{{env.MAX_USERS}}"}) != r.end());
  CHECK(w.spec.startup.done[0].text == "Server listening on");
  CHECK(variable(w, "MAX_USERS").rules == std::vector<std::string>{"required", "numeric", "digits_between:1,5"});
}

TEST_CASE("the generic Node.js and Python eggs: bash startup, several done markers") {
  auto node = egg("pelican-eggs-generic__nodejs_pterodactyl-egg-nodejs-generic.json");
  CHECK(node.spec.command[0] == "/bin/bash");  // the startup line uses [[ ]]
  CHECK(node.spec.image == "ghcr.io/pelican-eggs/yolks:nodejs_26");
  CHECK(node.spec.startup.done.size() == 2);
  CHECK(node.spec.variables.size() == 10);
  CHECK(variable(node, "NODE_ARGS").rules == std::vector<std::string>{"nullable", "string", "max:64"});
  auto python = egg("pelican-eggs-generic__python_egg-pterodactyl-python-generic.json");
  CHECK(python.spec.install->script.find("\r\n") != std::string::npos);  // kept byte for byte
  CHECK(python.spec.config_files.empty());
}

TEST_CASE("a PTDL_v1 egg: images list, rules string, no field_type") {
  const std::string v1 = R"({
    "meta": {"version": "PTDL_v1"}, "name": "Old", "author": "a@b.c",
    "images": ["quay.io/old:a", "quay.io/old:b"],
    "startup": "./run --port {{SERVER_PORT}} --max {{MAX}}",
    "config": {"files": "{\"cfg.yml\":{\"parser\":\"yml\",\"find\":{\"net.port\":\"{{server.build.default.port}}\",\"net.host\":\"{{config.docker.interface}}\"}}}",
               "startup": "{\"done\":\"regex:^Ready in [0-9]+ms\"}", "logs": "{}", "stop": "^^C"},
    "scripts": {"installation": {"script": "echo hi", "container": "alpine", "entrypoint": "ash"}},
    "variables": [{"name": "Max", "description": "", "env_variable": "MAX", "default_value": "10",
                   "user_viewable": 1, "user_editable": 1, "rules": "required|integer|between:1,100"}]
  })";
  auto imported = import_egg(v1);
  CHECK(imported.format == EggFormat::PtdlV1);
  const auto& s = imported.workload.spec;
  CHECK(s.image == "quay.io/old:a");
  CHECK(s.images.size() == 2);
  CHECK(s.stop == Stop{"", "SIGINT"});  // ^^C, the old workaround, means the same
  CHECK(s.startup.done[0] == DoneMarker{"^Ready in [0-9]+ms", true});
  CHECK(s.config_files[0].parser == ConfigParser::Yaml);
  CHECK(s.config_files[0].replace[0].value == "{{server.port}}");
  CHECK(s.config_files[0].replace[1].value == "{{node.interface}}");
  CHECK(s.variables[0].user_editable);
  CHECK(s.variables[0].rules.size() == 3);
  auto single = import_egg(
      R"({"meta":{"version":"PTDL_v1"},"name":"One","image":"x:1","startup":"run","config":{"stop":"^SIGTERM"}})");
  CHECK(single.workload.spec.image == "x:1");
  CHECK(single.workload.spec.stop.signal == "SIGTERM");
}

TEST_CASE("a PLCN_v3 egg: YAML, nested config, startup_commands, array rules, new placeholders") {
  const std::string v3 = R"(meta:
  version: PLCN_v3
name: 'Egg Example'
uuid: 21f1c702-953a-45ca-ae58-c205e8a4ea7e
tags: [test, minecraft]
docker_images:
  'ghcr.io/pelican-eggs/yolks:java_17': 'ghcr.io/pelican-eggs/yolks:java_17'
file_denylist: {  }
config:
  files:
    server.properties:
      parser: properties
      find:
        server-ip: 0.0.0.0
        server-port: '{{server.allocations.default.port}}'
        motd: {'A Minecraft Server': '{{server.environment.MOTD}}'}
  startup:
    done: ')! For help, type '
  logs: {  }
  stop: '^SIGINT'
scripts:
  installation:
    script: |-
      #!/bin/ash
      echo installing
    container: 'ghcr.io/pelican-eggs/installers:alpine'
    entrypoint: ash
variables:
  - name: 'Modpack Version'
    env_variable: MODPACK_VERSION
    default_value: 1.0.0
    user_viewable: true
    user_editable: true
    rules: [required, string, 'max:20']
    sort: null
  - name: Hardcore
    env_variable: HARDCORE
    default_value: false
    rules: [required, boolean]
  - name: Motd
    env_variable: MOTD
    default_value: hello
    rules: [nullable, string]
startup_commands:
  Default: 'java -Xms128M -Xmx{{SERVER_MEMORY}}M -jar minecraft.jar'
  Low memory: 'java -Xmx512M -jar minecraft.jar'
)";
  auto imported = import_egg(v3);
  CHECK(imported.format == EggFormat::PlcnV3);
  const auto& w = imported.workload;
  CHECK(w.metadata.annotations.at("egg.shardlyn.io/uuid") == "21f1c702-953a-45ca-ae58-c205e8a4ea7e");
  CHECK(w.metadata.annotations.at("egg.shardlyn.io/tags") == "test,minecraft");
  CHECK(w.metadata.annotations.at("egg.shardlyn.io/startup.Low memory") == "java -Xmx512M -jar minecraft.jar");
  CHECK(w.spec.command[2] == "java -Xms128M -Xmx{{SERVER_MEMORY}}M -jar minecraft.jar");
  CHECK(w.spec.stop.signal == "SIGINT");
  CHECK(w.spec.file_denylist.empty());
  const auto& r = w.spec.config_files[0].replace;
  CHECK(r[1] == Replacement{"server-port", std::nullopt, "{{server.port}}"});
  CHECK(r[2] == Replacement{"motd", "A Minecraft Server", "{{env.MOTD}}"});
  CHECK(variable(w, "MODPACK_VERSION").rules == std::vector<std::string>{"required", "string", "max:20"});
  CHECK(variable(w, "HARDCORE").default_value == "false");  // a YAML boolean becomes its text
  CHECK(w.spec.install->script == "#!/bin/ash\necho installing");
}

TEST_CASE("malformed eggs are refused naming what is wrong") {
  auto field = [](const std::string& text) {
    auto errors = egg_errors(text);
    return errors.empty() ? std::string("(accepted)") : errors[0].field;
  };
  CHECK(field(R"({"name":"x"})") == "meta.version");
  CHECK(field(R"({"meta":{"version":"PTDL_v9"},"name":"x"})") == "meta.version");
  CHECK(field(R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{},"startup":"a","config":{}})") ==
        "docker_images");
  CHECK(
      field(
          R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{"a":"b"},"startup":"a","config":{"files":"{nope"}})") ==
      "config.files");
  CHECK(
      field(
          R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{"a":"b"},"startup":"a","config":{"stop":"^NOPE"}})") ==
      "config.stop");
  CHECK(
      field(
          R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{"a":"b"},"startup":"a","config":{},"variables":[{"name":"v"}]})") ==
      "variables[0].env_variable");
  CHECK(
      field(
          R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{"a":"b"},"startup":"a","config":{"files":{"f":{"parser":"toml"}}}})") ==
      "config.files.f.parser");
  CHECK(
      field(
          R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{"a":"b"},"startup":"a","config":{"files":{"f":{"parser":"file","find":{"a":"{{server.build.swap}}"}}}}})") ==
      "config.files.f.find.a");
  CHECK(
      field(
          R"({"meta":{"version":"PTDL_v2"},"name":"x","docker_images":{"a":"b"},"startup":"run {{NOPE}}","config":{}})") ==
      "spec.command[2]");
  CHECK(field("just: [text") == "document");
}

TEST_CASE("stop strings map to signals or commands") {
  CHECK(stop_from_egg("^C") == Stop{"", "SIGINT"});
  CHECK(stop_from_egg("^^C") == Stop{"", "SIGINT"});
  CHECK(stop_from_egg("^SIGINT") == Stop{"", "SIGINT"});
  CHECK(stop_from_egg("^TERM") == Stop{"", "SIGTERM"});
  CHECK(stop_from_egg("^SIGKILL") == Stop{"", "SIGKILL"});
  CHECK(stop_from_egg("stop") == Stop{"stop", ""});
  CHECK(stop_from_egg("end") == Stop{"end", ""});
  CHECK_FALSE(stop_from_egg("^X"));
}

TEST_CASE("placeholders translate from every egg spelling") {
  CHECK(translate_placeholder("server.build.default.port") == "server.port");
  CHECK(translate_placeholder("server.allocations.default.port") == "server.port");
  CHECK(translate_placeholder("env.SERVER_PORT") == "server.port");
  CHECK(translate_placeholder("server.build.default.ip") == "server.ip");
  CHECK(translate_placeholder("server.build.memory") == "server.memory");
  CHECK(translate_placeholder("server.build.env.MAX_USERS") == "env.MAX_USERS");
  CHECK(translate_placeholder("server.environment.MOTD") == "env.MOTD");
  CHECK(translate_placeholder("env.LEVEL") == "env.LEVEL");
  CHECK(translate_placeholder("config.docker.interface") == "node.interface");
  CHECK(translate_placeholder("SERVER_JARFILE") == "SERVER_JARFILE");
  CHECK_FALSE(translate_placeholder("server.build.swap"));
}

TEST_CASE("the shipped eggs are linked in and import") {
  auto eggs = shipped_eggs();
  REQUIRE(eggs.size() == 5);
  for (const auto& file : eggs) {
    INFO(file.name);
    CHECK(read_text(workload_source("libs/workload/eggs/" + std::string(file.name))) == file.data);
    CHECK_NOTHROW(import_egg(file.data));
  }
}

TEST_CASE("an egg variable named like a built-in gets the SERVER_ prefix") {
  auto w = import_egg(R"({"meta":{"version":"PLCN_v3"},"name":"x","docker_images":{"a":"b"},
    "startup_commands":{"Default":"run"},"config":{},
    "variables":[{"name":"Port","env_variable":"SERVER_PORT","default_value":"1","rules":["integer"]}]})")
               .workload;
  REQUIRE(w.spec.variables.size() == 1);
  CHECK(w.spec.variables[0].env == "SERVER_SERVER_PORT");
}
