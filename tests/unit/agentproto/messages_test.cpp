#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "agentproto/json.hpp"

using namespace agentproto;
namespace json = boost::json;

namespace {

// The field a document is refused for (empty when it parses).
template <class T>
std::string refused_field(const std::string& text) {
  try {
    from_text<T>(text);
  } catch (const ProtocolError& e) {
    return e.field();
  }
  return "";
}

// `document` with `path` (dotted, object keys only) set to `value`, or removed when null.
std::string edited(json::value document, const std::vector<std::string>& path, const json::value* value) {
  json::value* at = &document;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) at = &at->as_object().at(path[i]);
  if (value) at->as_object()[path.back()] = *value;
  else at->as_object().erase(path.back());
  return json::serialize(document);
}

Heartbeat sample_heartbeat() {
  Heartbeat h;
  h.metrics.cpu = {0.25, 8};
  h.metrics.memory = {16ull << 30, 12ull << 30, 4ull << 30};
  h.metrics.disk = {"/var/lib/shardlyn-agent", 100ull << 30, 60ull << 30, 40ull << 30};
  h.metrics.network = {12345, 678};
  h.metrics.load = {0.5, 0.75, 1.25};
  h.instances.push_back({"inst-1", InstanceState::Running, std::nullopt, {1.5, 1 << 20, 2 << 20, 3, 0, 0, 4200}});
  h.instances.push_back({"inst-2", InstanceState::Crashed, 137, {}});
  h.desired_version = 7;
  return h;
}

DesiredState sample_desired() {
  DesiredInstance d;
  d.id = "echo-1";
  d.power = PowerState::Running;
  d.workload.command = {"/bin/sh", "-c", "echo 'Server ready'; cat"};
  d.workload.env = {{"MAX_PLAYERS", "20"}};
  d.workload.working_dir = "srv";
  d.workload.limits = {1.5, 512ull << 20, 64, 1024};
  d.workload.stop = {"quit", "SIGTERM", 5000};
  d.workload.startup = {{"Server ready", "regex:^Done \\("}, 60000};
  d.workload.install = InstallSpec{"localhost/busybox:test", "sh", "echo installing"};
  DesiredInstance gone;
  gone.id = "old_2";
  gone.power = PowerState::Deleted;
  gone.workload.command = {"/bin/true"};
  gone.workload.read_only_root = false;
  return {42, {d, gone}};
}

}  // namespace

TEST_CASE("registration round trips and names what is missing") {
  RegisterRequest req{"one-time", "node-a", "linux", "x86_64", 4, 8ull << 30, 50ull << 30, "0.1.0", {"process", "docker"}};
  auto text = to_text(req);
  CHECK(json::parse(text).as_object().at("v") == 1);
  auto back = from_text<RegisterRequest>(text);
  CHECK(back.token == "one-time");
  CHECK(back.cpu_count == 4);
  CHECK(back.memory_bytes == 8ull << 30);
  CHECK(back.drivers == std::vector<std::string>{"process", "docker"});
  CHECK(to_text(back) == text);

  auto doc = json::parse(text);
  CHECK(refused_field<RegisterRequest>(edited(doc, {"hostname"}, nullptr)) == "register.hostname");
  json::value negative = -1;
  CHECK(refused_field<RegisterRequest>(edited(doc, {"cpu_count"}, &negative)) == "register.cpu_count");
  json::value empty = "";
  CHECK(refused_field<RegisterRequest>(edited(doc, {"token"}, &empty)) == "register.token");

  RegisterResponse resp{"node-1", "agent-secret", 10};
  auto r = from_text<RegisterResponse>(to_text(resp));
  CHECK(r.node_id == "node-1");
  CHECK(r.agent_token == "agent-secret");
  CHECK(r.heartbeat_interval_s == 10);
  json::value zero = 0;
  CHECK(refused_field<RegisterResponse>(edited(json::parse(to_text(resp)), {"heartbeat_interval_s"}, &zero)) ==
        "registered.heartbeat_interval_s");
}

TEST_CASE("a heartbeat round trips with node metrics and instance states") {
  auto h = sample_heartbeat();
  auto text = to_text(h);
  auto back = from_text<Heartbeat>(text);
  CHECK(back.metrics.cpu.usage == 0.25);
  CHECK(back.metrics.disk.path == "/var/lib/shardlyn-agent");
  CHECK(back.metrics.load.fifteen == 1.25);
  REQUIRE(back.instances.size() == 2);
  CHECK(back.instances[0].state == InstanceState::Running);
  CHECK_FALSE(back.instances[0].exit_code);
  CHECK(back.instances[0].stats.uptime_ms == 4200);
  CHECK(back.instances[1].exit_code == 137);
  CHECK(back.desired_version == 7);
  CHECK(to_text(back) == text);
  // Numbers are written plainly, never in exponent form.
  CHECK(text.find("\"usage\":0.25") != std::string::npos);
  CHECK(text.find("E") == std::string::npos);

  auto doc = json::parse(text);
  CHECK(refused_field<Heartbeat>(edited(doc, {"metrics", "cpu", "usage"}, nullptr)) == "heartbeat.metrics.cpu.usage");
  json::value over = 1.5;
  CHECK(refused_field<Heartbeat>(edited(doc, {"metrics", "cpu", "usage"}, &over)) == "heartbeat.metrics.cpu.usage");
  doc.as_object()["instances"].as_array()[1].as_object()["state"] = "sleeping";
  CHECK(refused_field<Heartbeat>(json::serialize(doc)) == "heartbeat.instances[1].state");
  try {
    from_text<Heartbeat>(json::serialize(doc));
  } catch (const ProtocolError& e) {
    CHECK(std::string(e.what()).find("must be one of creating, installing") != std::string::npos);
    CHECK(std::string(e.what()).find("'sleeping'") != std::string::npos);
  }

  HeartbeatResponse resp{9, 5};
  auto r = from_text<HeartbeatResponse>(to_text(resp));
  CHECK(r.desired_version == 9);
  CHECK(r.heartbeat_interval_s == 5);
}

TEST_CASE("the desired state round trips with resolved workloads") {
  auto d = sample_desired();
  auto text = to_text(d);
  auto back = from_text<DesiredState>(text);
  CHECK(back.version == 42);
  REQUIRE(back.instances.size() == 2);
  const auto& w = back.instances[0].workload;
  CHECK(back.instances[0].power == PowerState::Running);
  CHECK(w.command.size() == 3);
  CHECK(w.env.at("MAX_PLAYERS") == "20");
  CHECK(w.limits.memory_bytes == 512ull << 20);
  CHECK(w.stop.command == "quit");
  CHECK(w.startup.done[1] == "regex:^Done \\(");
  REQUIRE(w.install);
  CHECK(w.install->entrypoint == "sh");
  CHECK(back.instances[1].power == PowerState::Deleted);
  CHECK_FALSE(back.instances[1].workload.install);
  CHECK_FALSE(back.instances[1].workload.read_only_root);
  CHECK(to_text(back) == text);

  auto doc = json::parse(text);
  auto& first = doc.as_object()["instances"].as_array()[0].as_object();
  first["workload"].as_object()["stop"].as_object()["signal"] = "TERM";
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].workload.stop.signal");
  first["workload"].as_object()["stop"].as_object()["signal"] = "SIGINT";
  first["id"] = "../etc";
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].id");
  first["id"] = "old_2";
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[1].id");  // twice
  first["id"] = "echo-1";
  first["workload"].as_object()["env"].as_object()["N"] = 3;
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].workload.env.N");
}

TEST_CASE("ETags name desired-state versions") {
  CHECK(desired_etag(42) == "\"42\"");
  CHECK(version_from_etag("\"42\"") == 42u);
  CHECK(version_from_etag("W/\"7\"") == 7u);
  CHECK_FALSE(version_from_etag("42"));
  CHECK_FALSE(version_from_etag("\"4x\""));
  CHECK_FALSE(version_from_etag("\"99999999999999999999999\""));
}

TEST_CASE("event batches round trip") {
  InstanceEvent crash;
  crash.instance_id = "echo-1";
  crash.kind = EventKind::Crash;
  crash.at = "2026-12-02T04:10:00Z";
  crash.from = InstanceState::Running;
  crash.to = InstanceState::Crashed;
  crash.reason = "exited with 1";
  crash.exit_code = 1;
  crash.oom_killed = true;
  crash.last_lines = {"a", "b"};
  InstanceEvent install;
  install.instance_id = "echo-1";
  install.kind = EventKind::Install;
  install.at = "2026-12-02T04:09:00Z";
  install.to = InstanceState::Stopped;
  install.reason = "install finished";
  install.install_succeeded = true;
  auto text = to_text(EventBatch{{crash, install}});
  auto back = from_text<EventBatch>(text);
  REQUIRE(back.events.size() == 2);
  CHECK(back.events[0].from == InstanceState::Running);
  CHECK(back.events[0].exit_code == 1);
  CHECK(back.events[0].oom_killed);
  CHECK(back.events[0].last_lines.size() == 2);
  CHECK_FALSE(back.events[1].from);
  CHECK(back.events[1].install_succeeded == true);
  CHECK(to_text(back) == text);
}

TEST_CASE("tunnel frames round trip through one variant") {
  OpenChannel open{3, ChannelKind::Console, "echo-1", 17, 80, 24, 65536};
  auto f = from_text<TunnelFrame>(to_text(TunnelFrame{open}));
  REQUIRE(std::holds_alternative<OpenChannel>(f));
  CHECK(std::get<OpenChannel>(f).since_seq == 17u);
  CHECK(std::get<OpenChannel>(f).window_bytes == 65536);

  ChannelData data{3, "stats", json::array{json::object{{"memory_bytes", 1024}}}, 5};
  auto text = to_text(TunnelFrame{data});
  // Payloads are real JSON values, not JSON inside strings.
  CHECK(text.find("\"args\":[{\"memory_bytes\":1024}]") != std::string::npos);
  f = from_text<TunnelFrame>(text);
  REQUIRE(std::holds_alternative<ChannelData>(f));
  CHECK(std::get<ChannelData>(f).args[0].as_object().at("memory_bytes") == 1024);
  CHECK(std::get<ChannelData>(f).seq == 5u);

  f = from_text<TunnelFrame>(to_text(TunnelFrame{ChannelCredit{3, 4096}}));
  CHECK(std::get<ChannelCredit>(f).bytes == 4096);
  f = from_text<TunnelFrame>(to_text(TunnelFrame{CloseChannel{3, "instance stopped"}}));
  CHECK(std::get<CloseChannel>(f).reason == "instance stopped");
  f = from_text<TunnelFrame>(to_text(TunnelFrame{TunnelRequest{"r1", RequestKind::Inventory, {"system"}}}));
  CHECK(std::get<TunnelRequest>(f).sections == std::vector<std::string>{"system"});

  TunnelResponse ok{"r1", json::object{{"hostname", "node-a"}}, "", ""};
  f = from_text<TunnelFrame>(to_text(TunnelFrame{ok}));
  CHECK(std::get<TunnelResponse>(f).body->at("hostname") == "node-a");
  TunnelResponse failed{"r2", std::nullopt, "unknown_section", "no section 'gpu'"};
  f = from_text<TunnelFrame>(to_text(TunnelFrame{failed}));
  CHECK_FALSE(std::get<TunnelResponse>(f).body);
  CHECK(std::get<TunnelResponse>(f).error_code == "unknown_section");
}

TEST_CASE("container actions and process kills round trip with only their own fields") {
  TunnelRequest stop{"c1", RequestKind::ContainerStop, {}, "web-1", {}, "", 5u};
  auto text = to_text(TunnelFrame{stop});
  CHECK(text.find("\"pid\"") == std::string::npos);
  CHECK(text.find("\"scope\"") == std::string::npos);
  auto back = std::get<TunnelRequest>(from_text<TunnelFrame>(text));
  CHECK(back.kind == RequestKind::ContainerStop);
  CHECK(back.container_id == "web-1");
  CHECK(back.timeout_s == 5u);

  TunnelRequest kill{"p1", RequestKind::ProcessKill, {}, "", 4242u, "SIGTERM", {}, ProcessScope::Any};
  text = to_text(TunnelFrame{kill});
  CHECK(text.find("\"container_id\"") == std::string::npos);
  back = std::get<TunnelRequest>(from_text<TunnelFrame>(text));
  CHECK(back.pid == 4242u);
  CHECK(back.signal == "SIGTERM");
  CHECK(back.scope == ProcessScope::Any);
  CHECK(to_text(TunnelFrame{back}) == text);

  // Without a scope on the wire, a kill reaches only the instances' processes.
  back = std::get<TunnelRequest>(from_text<TunnelFrame>(
      R"({"v":1,"type":"request","id":"p2","kind":"process_kill","sections":[],"pid":7})"));
  CHECK(back.scope == ProcessScope::Instances);
  CHECK(back.signal.empty());
}

TEST_CASE("container and process requests refuse what could reach elsewhere, naming the field") {
  auto req = [](const std::string& fields) {
    return R"({"v":1,"type":"request","id":"r","sections":[],)" + fields + R"(})";
  };
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"container_start","container_id":"../../x")")) == "frame.container_id");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"container_start","container_id":"a?force=1")")) == "frame.container_id");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"container_start")")) == "frame.container_id");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"container_start","container_id":"a","pid":1)")) == "frame.pid");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"container_stop","container_id":"a","timeout_s":99999)")) == "frame.timeout_s");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"container_kill","container_id":"a","signal":"rm -rf")")) == "frame.signal");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"process_kill","pid":3,"signal":"SIGFOO")")) == "frame.signal");
  CHECK(known_signal("SIGWINCH"));
  CHECK_FALSE(known_signal("KILL"));
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"process_kill","pid":0)")) == "frame.pid");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"process_kill","pid":3,"scope":"all")")) == "frame.scope");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"process_kill","pid":3,"container_id":"a")")) == "frame.container_id");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"inventory","pid":3)")) == "frame.pid");
  CHECK(refused_field<TunnelFrame>(req(R"("kind":"reboot")")) == "frame.kind");
  CHECK(valid_container_ref("3f9a0c1b2d4e"));
  CHECK(valid_container_ref("shardlyn-echo_1.a"));
  CHECK_FALSE(valid_container_ref("-rm"));
  CHECK_FALSE(valid_container_ref(std::string(129, 'a')));
}

TEST_CASE("a git_sync request carries its repository, confined target and credential; readers refuse the rest") {
  TunnelRequest sync{"g1", RequestKind::GitSync};
  sync.git = GitSyncSpec{"inst-1", "git://127.0.0.1:9418/site.git", "main", "site/www", GitAuth::Token, "tok", 60};
  auto text = to_text(TunnelFrame{sync});
  CHECK(text.find("\"pid\"") == std::string::npos);
  auto back = std::get<TunnelRequest>(from_text<TunnelFrame>(text));
  REQUIRE(back.git);
  CHECK(back.git->repository == "git://127.0.0.1:9418/site.git");
  CHECK(back.git->target == "site/www");
  CHECK(back.git->auth == GitAuth::Token);
  CHECK(back.git->secret == "tok");
  CHECK(back.git->timeout_s == 60u);
  CHECK(to_text(TunnelFrame{back}) == text);

  auto req = [](const std::string& git) {
    return R"({"v":1,"type":"request","id":"r","sections":[],"kind":"git_sync","git":{"instance_id":"i",)" + git + "}}";
  };
  const std::string rest = R"("auth":"none","secret":"","timeout_s":30)";
  CHECK(refused_field<TunnelFrame>(req(R"("repository":"file:///etc","branch":"main","target":"",)" + rest)) ==
        "frame.git.repository");
  CHECK(refused_field<TunnelFrame>(req(R"("repository":"--upload-pack=x","branch":"main","target":"",)" + rest)) ==
        "frame.git.repository");
  CHECK(refused_field<TunnelFrame>(req(R"("repository":"https://h/r","branch":"-x","target":"",)" + rest)) ==
        "frame.git.branch");
  CHECK(refused_field<TunnelFrame>(req(R"("repository":"https://h/r","branch":"main","target":"a/../../b",)" + rest)) ==
        "frame.git.target");
  CHECK(refused_field<TunnelFrame>(req(R"("repository":"https://h/r","branch":"main","target":"/etc",)" + rest)) ==
        "frame.git.target");
  CHECK(refused_field<TunnelFrame>(
            R"({"v":1,"type":"request","id":"r","sections":[],"kind":"git_sync"})") == "frame.git");
  CHECK(valid_git_repository("git@github.com:o/r.git"));
  CHECK(valid_git_repository("ssh://git@host:22/o/r"));
  CHECK_FALSE(valid_git_repository("host:path"));
  CHECK_FALSE(valid_git_repository("https://h/r x"));
  CHECK(valid_git_branch("release/1.2"));
  CHECK_FALSE(valid_git_branch("a..b"));
  CHECK_FALSE(valid_git_branch("x.lock"));
  CHECK(valid_git_target(""));
  CHECK(valid_git_target("a/b/"));
  CHECK_FALSE(valid_git_target(".."));
  CHECK_FALSE(valid_git_target("a//b"));
}

TEST_CASE("a container_logs channel names its container; tail and follow are optional") {
  OpenChannel open{4, ChannelKind::ContainerLogs, "", std::nullopt, 80, 24, 4096, "web-1", 20u, true};
  auto back = std::get<OpenChannel>(from_text<TunnelFrame>(to_text(TunnelFrame{open})));
  CHECK(back.kind == ChannelKind::ContainerLogs);
  CHECK(back.container_id == "web-1");
  CHECK(back.tail == 20u);
  CHECK(back.follow);
  // A console channel carries none of them.
  CHECK(to_text(TunnelFrame{OpenChannel{1, ChannelKind::Console, "i"}}).find("container_id") == std::string::npos);
  CHECK(refused_field<TunnelFrame>(
            R"({"v":1,"type":"open","channel":1,"kind":"container_logs","instance_id":"","cols":80,"rows":24,"window_bytes":9})") ==
        "frame.container_id");
}

TEST_CASE("bad frames are refused naming the field") {
  CHECK(refused_field<TunnelFrame>(R"({"v":1,"type":"wave","channel":1})") == "frame.type");
  CHECK(refused_field<TunnelFrame>(R"({"v":1,"type":"data","channel":1,"args":[]})") == "frame.event");
  CHECK(refused_field<TunnelFrame>(R"({"v":1,"type":"data","channel":1,"event":"x","args":"[1]"})") == "frame.args");
  CHECK(refused_field<TunnelFrame>(R"({"v":1,"type":"credit","channel":-1,"bytes":1})") == "frame.channel");
  CHECK(refused_field<TunnelFrame>(R"({"v":1,"type":"response","id":"a"})") == "frame.body");
  CHECK(refused_field<TunnelFrame>(R"({"v":1,"type":"response","id":"a","body":{},"error":{}})") == "frame.body");
  CHECK(refused_field<TunnelFrame>("[1,2]") == "frame");
  CHECK(refused_field<TunnelFrame>("{not json") == "message");
}

TEST_CASE("every document refuses another protocol version, a missing one and unknown fields") {
  auto check = [](auto sample, const std::string& root) {
    using T = decltype(sample);
    auto doc = json::parse(to_text(sample));
    json::value two = 2;
    CHECK(refused_field<T>(edited(doc, {"v"}, &two)) == root + ".v");
    CHECK(refused_field<T>(edited(doc, {"v"}, nullptr)) == root + ".v");
    json::value extra = true;
    CHECK(refused_field<T>(edited(doc, {"surprise"}, &extra)) == root + ".surprise");
  };
  check(RegisterRequest{"t", "h", "linux", "x86_64", 1, 1, 1, "0", {}}, "register");
  check(RegisterResponse{"n", "a", 10}, "registered");
  check(sample_heartbeat(), "heartbeat");
  check(HeartbeatResponse{1, 10}, "heartbeat_response");
  check(sample_desired(), "desired");
  check(EventBatch{}, "events");
  check(TunnelFrame{ChannelCredit{1, 1}}, "frame");
  try {
    from_text<HeartbeatResponse>(R"({"v":2,"desired_version":1,"heartbeat_interval_s":10})");
    FAIL("version 2 accepted");
  } catch (const ProtocolError& e) {
    CHECK(std::string(e.what()) == "heartbeat_response.v: unsupported protocol version 2 (this side speaks 1)");
  }
  // Unknown fields deep inside are named with their path too.
  auto doc = json::parse(to_text(sample_heartbeat()));
  doc.as_object()["metrics"].as_object()["memory"].as_object()["swap"] = 1;
  CHECK(refused_field<Heartbeat>(json::serialize(doc)) == "heartbeat.metrics.memory.swap");
}

TEST_CASE("the restart policy, health check, config files and power generations round trip; absent means their defaults") {
  auto d = sample_desired();
  auto& w = d.instances[0].workload;
  w.restart = {RestartMode::OnFailure, 3, 600000, 500, 2.0};
  w.healthcheck = HealthcheckSpec{HealthcheckKind::Http, 8080, "/ready", {}, 1000, 500};
  w.config_files = {{"server.properties", "properties", {{"server-port", std::nullopt, "25565"}, {"motd", "old", "new"}}}};
  w.stop.kill_after_ms = 1500;
  d.instances[0].restart_generation = 4;
  d.instances[0].kill_generation = 1;
  auto text = to_text(d);
  auto back = from_text<DesiredState>(text);
  const auto& b = back.instances[0].workload;
  CHECK(b.restart.mode == RestartMode::OnFailure);
  CHECK(b.restart.delay_ms == 500);
  REQUIRE(b.healthcheck);
  CHECK(b.healthcheck->kind == HealthcheckKind::Http);
  CHECK(b.healthcheck->path == "/ready");
  REQUIRE(b.config_files.size() == 1);
  CHECK(b.config_files[0].replace[1].if_value == "old");
  CHECK(b.stop.kill_after_ms == 1500);
  CHECK(back.instances[0].restart_generation == 4);
  CHECK(back.instances[0].kill_generation == 1);
  CHECK(to_text(back) == text);

  auto doc = json::parse(text);
  auto& first = doc.as_object()["instances"].as_array()[0].as_object();
  auto& wl = first["workload"].as_object();
  wl["restart"].as_object()["mode"] = "sometimes";
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].workload.restart.mode");
  wl["restart"].as_object()["mode"] = "always";
  wl["healthcheck"].as_object()["port"] = 0;
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].workload.healthcheck.port");
  wl["healthcheck"].as_object()["port"] = 80;
  wl["config_files"].as_array()[0].as_object()["parser"] = "toml";
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].workload.config_files[0].parser");
  wl["config_files"].as_array()[0].as_object()["parser"] = "ini";
  wl["config_files"].as_array()[0].as_object()["path"] = "/etc/passwd";
  CHECK(refused_field<DesiredState>(json::serialize(doc)) == "desired.instances[0].workload.config_files[0].path");

  // A document of a side that does not send them yet: never restart, no check, no files, 0.
  auto old = json::parse(text);
  auto& o = old.as_object()["instances"].as_array()[0].as_object();
  o.erase("restart_generation");
  o.erase("kill_generation");
  for (auto* f : {"restart", "healthcheck", "config_files"}) o["workload"].as_object().erase(f);
  o["workload"].as_object()["stop"].as_object().erase("kill_after_ms");
  auto plain = from_text<DesiredState>(json::serialize(old));
  CHECK(plain.instances[0].workload.restart.mode == RestartMode::Never);
  CHECK_FALSE(plain.instances[0].workload.healthcheck);
  CHECK(plain.instances[0].workload.config_files.empty());
  CHECK(plain.instances[0].workload.stop.kill_after_ms == 10000);
  CHECK(plain.instances[0].restart_generation == 0);
}
