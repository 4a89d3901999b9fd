// The docker driver against a real Docker Engine API: Podman's compatible service on a unix
// socket in a temporary directory, with an image imported from busybox-static (no registry).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "agent_binary.hpp"
#include "node/processes.hpp"
#include "runtime/docker_api.hpp"
#include "runtime/docker_driver.hpp"
#include "runtime/process_driver.hpp"

using namespace agent;
using namespace std::chrono_literals;

namespace {

const char* kImage = "localhost/busybox:shardlyn-test";

int run(const std::string& command) { return std::system(command.c_str()); }

// A throw-away Podman: own storage, own containers.conf (runc, no default ulimits: crun and
// the default RLIMIT_NOFILE fail on these machines), serving the API until destroyed.
class PodmanService {
 public:
  PodmanService() : dir_("agent-podman") {
    if (run("command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1") != 0) {
      why_not_ = "podman or runc is not installed (tools/bootstrap-deps.sh installs them)";
      return;
    }
    if (!std::filesystem::exists("/bin/busybox")) {
      why_not_ = "/bin/busybox is missing (Debian package busybox-static)";
      return;
    }
    std::ofstream(dir_.path / "containers.conf") << "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\n";
    ::setenv("CONTAINERS_CONF", (dir_.path / "containers.conf").c_str(), 1);
    flags_ = "--root " + (dir_.path / "storage").string() + " --runroot " + (dir_.path / "run").string() +
             " --storage-driver vfs --cgroup-manager cgroupfs --events-backend file";
    auto rootfs = dir_.path / "rootfs";
    std::string image_cmd = "mkdir -p " + rootfs.string() + "/bin " + rootfs.string() + "/tmp && cp /bin/busybox " +
                            rootfs.string() + "/bin/ && for a in sh echo cat sleep touch; do ln -s busybox " +
                            rootfs.string() + "/bin/$a; done && tar -C " + rootfs.string() + " -cf " +
                            (dir_.path / "image.tar").string() + " . && podman " + flags_ + " import " +
                            (dir_.path / "image.tar").string() + " " + kImage + " > " +
                            (dir_.path / "import.log").string() + " 2>&1";
    if (run(image_cmd) != 0) {
      why_not_ = "podman import failed: " + tail(dir_.path / "import.log");
      return;
    }
    socket_ = (dir_.path / "api.sock").string();
    start_service();
  }
  ~PodmanService() {
    if (service_ > 0) {
      ::kill(service_, SIGTERM);
      ::waitpid(service_, nullptr, 0);
    }
    if (!flags_.empty()) run("podman " + flags_ + " rm -af -t 0 >/dev/null 2>&1");
    ::unsetenv("CONTAINERS_CONF");
  }
  const std::string& why_not() const { return why_not_; }
  const std::string& socket() const { return socket_; }
  const std::filesystem::path& dir() const { return dir_.path; }

 private:
  static std::string tail(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    return text.size() > 600 ? text.substr(text.size() - 600) : text;
  }
  void start_service() {
    std::string cmd = "exec podman " + flags_ + " system service --time=0 unix://" + socket_ + " > " +
                      (dir_.path / "service.log").string() + " 2>&1";
    service_ = ::fork();
    if (service_ == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    DockerApi api(socket_);
    std::string why;
    for (int i = 0; i < 200; ++i) {
      if (api.ping(why)) return;
      std::this_thread::sleep_for(50ms);
    }
    why_not_ = "podman system service did not answer on " + socket_ + ": " + why + " " + tail(dir_.path / "service.log");
  }
  agent_test::TempDir dir_;
  std::string flags_, socket_, why_not_;
  pid_t service_ = -1;
};

std::string wait_line(Console& console, const std::string& text, std::chrono::milliseconds within = 20s) {
  auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until && !console.ended())
    if (auto line = console.next(200ms); line && line->text.starts_with(text)) return line->text;
  return {};
}

Workload busybox(const std::string& id, const std::string& script) {
  Workload w;
  w.instance_id = id;
  w.image = kImage;
  w.command = {"/bin/sh", "-c", script};
  w.limits = {0.5, 64 << 20, 64, 256};
  return w;
}

std::string text_of(const std::vector<OutputLine>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.text + "\n";
  return out;
}

}  // namespace

TEST_CASE("docker driver on Podman: create, console, hardening, stop, kill, found again by label, remove") {
  PodmanService podman;
  if (!podman.why_not().empty()) {
    WARN("SKIPPED: " << podman.why_not());
    return;
  }
  auto instances = podman.dir() / "instances";
  DockerDriver driver(podman.socket(), instances, podman.dir() / "stdin", agent_test::agent_binary());

  auto h = driver.start(busybox(
      "web1", "touch /probe 2>/dev/null && echo root=writable || echo root=read-only; touch /tmp/p && echo tmp=ok; "
              "while read k v; do case $k in CapEff:|NoNewPrivs:) echo \"$k $v\";; esac; done < /proc/self/status; "
              "echo 'Server ready'; while read line; do echo \"echo: $line\"; [ \"$line\" = quit ] && exit 3; done"));
  auto console = driver.attach(h, 0);
  CHECK(wait_line(*console, "Server ready") == "Server ready");
  driver.send_input(h, "hello");
  CHECK(wait_line(*console, "echo: hello") == "echo: hello");
  auto logs = text_of(driver.logs(h, 50));
  CHECK_THAT(logs, Catch::Contains("root=read-only") && Catch::Contains("tmp=ok"));
  // Seen from inside: no capability left, and no way to gain privileges.
  CHECK_THAT(logs, Catch::Contains("CapEff: 0000000000000000") && Catch::Contains("NoNewPrivs: 1"));

  // What the engine was told: labels and hardening, as it reports them back.
  DockerApi api(podman.socket());
  auto info = boost::json::parse(api.call("GET", "/containers/" + h.ref + "/json").body).as_object();
  const auto& host = info.at("HostConfig").as_object();
  CHECK(host.at("ReadonlyRootfs").as_bool());
  CHECK(boost::json::serialize(host.at("SecurityOpt")).find("no-new-privileges") != std::string::npos);
  CHECK(host.at("Memory").as_int64() == 64 << 20);
  CHECK(info.at("Config").as_object().at("Labels").as_object().at(kInstanceLabel).as_string() == "web1");

  auto o = driver.inspect(h);
  REQUIRE(o.state == RunState::Running);
  CHECK(o.pid.value_or(0) > 0);
  auto stats = driver.stats(h);
  CHECK(stats.memory_bytes > 0);
  CHECK(stats.pids >= 1);

  // A new driver (the agent restarted) finds the container by its label.
  DockerDriver restarted(podman.socket(), instances, podman.dir() / "stdin", agent_test::agent_binary());
  auto found = restarted.recover();
  REQUIRE(found.size() == 1);
  CHECK(found[0].instance_id == "web1");
  CHECK(found[0].ref == h.ref);
  restarted.send_input(found[0], "after restart");
  CHECK(wait_line(*console, "echo: after restart") == "echo: after restart");

  auto exit = restarted.stop(found[0], StopPolicy{"quit", SIGTERM, 10s, 5s}, 30s);
  REQUIRE(exit);
  CHECK(exit->code == 3);
  CHECK(exit->stop_requested);
  restarted.remove(found[0]);
  CHECK(restarted.inspect(found[0]).state == RunState::Missing);
  CHECK(restarted.recover().empty());
}

TEST_CASE("docker driver on Podman: a workload ignoring its stop command and SIGTERM is killed; kill works") {
  PodmanService podman;
  if (!podman.why_not().empty()) {
    WARN("SKIPPED: " << podman.why_not());
    return;
  }
  DockerDriver driver(podman.socket(), podman.dir() / "instances", podman.dir() / "stdin", agent_test::agent_binary());
  auto h = driver.start(busybox("stubborn", "trap '' TERM; echo up; while true; do sleep 1; done"));
  auto console = driver.attach(h, 0);
  REQUIRE_FALSE(wait_line(*console, "up").empty());
  auto began = std::chrono::steady_clock::now();
  auto exit = driver.stop(h, StopPolicy{"ignored", SIGTERM, 500ms, 1s}, 30s);
  REQUIRE(exit);
  CHECK(exit->code == 128 + SIGKILL);
  CHECK(std::chrono::steady_clock::now() - began >= 1500ms);  // the timeout, then the engine's grace
  driver.remove(h);

  auto k = driver.start(busybox("killme", "echo up; while true; do sleep 1; done"));
  auto kc = driver.attach(k, 0);
  REQUIRE_FALSE(wait_line(*kc, "up").empty());
  driver.kill(k, SIGKILL);
  // Podman passes through `created` for a moment while it cleans up a killed container.
  for (int i = 0; i < 200 && driver.inspect(k).state != RunState::Exited; ++i) std::this_thread::sleep_for(100ms);
  auto killed = driver.inspect(k);
  REQUIRE(killed.state == RunState::Exited);
  CHECK(killed.exit->code == 137);
  CHECK(killed.exit->stop_requested);

  // An image that does not exist: a clear error, nothing left behind.
  auto missing = busybox("noimage", "true");
  missing.image = "localhost/no-such-image:none";
  CHECK_THROWS_AS(driver.start(missing), RuntimeError);
  driver.remove(k);
  CHECK(driver.recover().empty());
}

TEST_CASE("the docker driver's engine: every container listed, found by id, name or prefix, acted on, its logs read") {
  PodmanService podman;
  if (!podman.why_not().empty()) {
    WARN("SKIPPED: " << podman.why_not());
    return;
  }
  DockerDriver driver(podman.socket(), podman.dir() / "instances", podman.dir() / "stdin", agent_test::agent_binary());
  auto* engine = driver.engine();
  REQUIRE(engine);
  auto instance = driver.start(busybox("inst1", "sleep 300 & echo up; while true; do sleep 1; done"));
  // A container nobody labelled, made straight through the engine.
  DockerApi api(podman.socket());
  auto created = api.call("POST", "/containers/create?name=plain-one",
                          R"({"Image":")" + std::string(kImage) +
                              R"(","Cmd":["/bin/sh","-c","echo one; echo two; echo three; while true; do sleep 1; done"]})");
  REQUIRE(created.status == 201);
  std::string id(boost::json::parse(created.body).at("Id").as_string());

  auto all = engine->list();
  REQUIRE(all.size() == 2);
  auto plain = engine->find("plain-one");
  REQUIRE(plain);
  CHECK(plain->id == id);
  CHECK(plain->state == "created");
  CHECK_FALSE(plain->instance_id);
  CHECK(engine->find(id.substr(0, 12))->id == id);
  CHECK(engine->find(instance.ref)->instance_id == "inst1");
  CHECK_FALSE(engine->find("nothing-here"));

  CHECK(engine->act(*plain, ContainerAction::Start, {}, 0).state == "running");
  auto logs = engine->logs(*plain, 2, false);
  CHECK(wait_line(*logs, "two") == "two");
  CHECK(wait_line(*logs, "three") == "three");
  for (int i = 0; i < 50 && !logs->ended(); ++i) logs->next(std::chrono::milliseconds(100));
  CHECK(logs->ended());  // without follow, the stream ends after what was there
  auto followed = engine->logs(*plain, {}, true);
  CHECK(wait_line(*followed, "one") == "one");
  CHECK_FALSE(followed->ended());

  CHECK(engine->act(*plain, ContainerAction::Stop, std::chrono::seconds(1), 0).state == "exited");
  CHECK(engine->act(*plain, ContainerAction::Restart, std::chrono::seconds(1), 0).state == "running");
  engine->act(*plain, ContainerAction::Kill, {}, SIGKILL);
  for (int i = 0; i < 100 && engine->find(id)->state != "exited"; ++i) std::this_thread::sleep_for(100ms);
  CHECK(engine->find(id)->state == "exited");
  // Podman answers a start of a started container 304, which is success as well.
  engine->act(*plain, ContainerAction::Start, {}, 0);
  CHECK(engine->act(*plain, ContainerAction::Start, {}, 0).state == "running");
  // The container's processes, as the node sees them, belong to its instance (a process kill's check).
  auto main = driver.inspect(instance).pid;
  REQUIRE(main);
  std::optional<int> child;
  for (int i = 0; i < 100 && !child; ++i, std::this_thread::sleep_for(50ms))
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      auto name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream cmdline(entry.path() / "cmdline");
      std::string text((std::istreambuf_iterator<char>(cmdline)), {});
      std::ifstream stat(entry.path() / "stat");
      std::string stat_text((std::istreambuf_iterator<char>(stat)), {});
      auto parsed = parse_proc_pid_stat(stat_text);
      if (parsed && parsed->ppid == *main && text.find("300") != std::string::npos) child = std::stoi(name);
    }
  REQUIRE(child);
  CHECK(owning_instance("/proc", *child, {{*main, "inst1"}}) == "inst1");
  CHECK(owning_instance("/proc", *main, {{*main, "inst1"}}) == "inst1");
  CHECK_FALSE(owning_instance("/proc", ::getpid(), {{*main, "inst1"}}));
  api.call("DELETE", "/containers/" + id + "?force=1");
  driver.kill(instance, SIGKILL);
  driver.remove(instance);
}
