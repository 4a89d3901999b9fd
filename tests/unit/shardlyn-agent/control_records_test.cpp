// The control plane's translations: protocol workloads to runtime records, signal names,
// node samples to heartbeat metrics, terminal output cut at whole UTF-8 sequences, and the
// stored credentials.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "control/api_client.hpp"
#include "control/control_plane.hpp"
#include "control/terminal.hpp"
#include "instances/reconciler.hpp"

using namespace agent;

TEST_CASE("a resolved workload becomes the runtime's record") {
  agentproto::ResolvedWorkload r;
  r.command = {"/bin/sh", "-c", "echo ready"};
  r.env = {{"A", "1"}};
  r.working_dir = "srv";
  r.limits = {1.5, 256ull << 20, 32, 512};
  r.stop = {"", "SIGINT", 4000};
  r.read_only_root = false;
  auto w = runtime_workload("inst-1", r);
  CHECK(w.instance_id == "inst-1");
  CHECK(w.command == r.command);
  CHECK(w.env.at("A") == "1");
  CHECK(w.limits.memory_bytes == 256ull << 20);
  CHECK(w.limits.open_files == 512);
  CHECK(w.stop.signal == SIGINT);
  CHECK(w.stop.timeout == std::chrono::milliseconds(4000));
  CHECK_FALSE(w.read_only_root);
  CHECK(signal_number("SIGTERM") == SIGTERM);
  CHECK(signal_number("SIGKILL") == SIGKILL);
  CHECK_THROWS_AS(signal_number("SIGNOPE"), RuntimeError);
}

TEST_CASE("a node sample becomes the heartbeat's metrics") {
  NodeSample s;
  s.cpu_usage = 0.5;
  s.cpu_cores = 4;
  s.memory = {1000, 400};
  s.disk = {"/data", 5000, 1000};
  s.network.interfaces = {{"eth0", 10, 20}, {"eth1", 1, 2}};
  s.load = {0.1, 0.2, 0.3};
  auto m = protocol_metrics(s);
  CHECK(m.cpu.cores == 4);
  CHECK(m.memory.used_bytes == 600);
  CHECK(m.disk.used_bytes == 4000);
  CHECK(m.network.rx_bytes == 11);
  CHECK(m.network.tx_bytes == 22);
  CHECK(m.load.fifteen == 0.3);
}

TEST_CASE("terminal output is cut at whole UTF-8 sequences") {
  std::string bytes = "ok \xC3\xA9 \xE2\x82";  // "ok é " and the first two bytes of "€"
  CHECK(take_utf8(bytes) == "ok \xC3\xA9 ");
  CHECK(bytes == "\xE2\x82");
  bytes += "\xAC!";
  CHECK(take_utf8(bytes) == "\xE2\x82\xAC!");
  CHECK(bytes.empty());
  bytes = "a\xFF" "b\xC3(";  // an invalid byte and a broken sequence
  CHECK(take_utf8(bytes) == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD(");
}

TEST_CASE("credentials are stored owner-only and read back") {
  auto dir = std::filesystem::temp_directory_path() / ("agent-creds-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "credentials.json";
  CHECK_FALSE(load_credentials(file));
  save_credentials(file, {"node-1", "agt_secret"});
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto back = load_credentials(file);
  REQUIRE(back);
  CHECK(back->node_id == "node-1");
  CHECK(back->agent_token == "agt_secret");
  std::filesystem::remove_all(dir);
}
