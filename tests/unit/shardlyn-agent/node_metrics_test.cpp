// Node metrics parsed from captured /proc samples (a 2-core VM and a 4-core host).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "node/metrics.hpp"

using namespace agent;

namespace {

const char* kStat2Core = R"(cpu  221187 320 19870 17128 659 0 231 1255 0 0
cpu0 110844 72 10050 8248 417 0 89 591 0 0
cpu1 110343 248 9820 8879 242 0 141 664 0 0
intr 1186183 0 0 0
ctxt 2336789
btime 1796170000
processes 28750
)";

const char* kStat2CoreLater = R"(cpu  221287 320 19970 17428 659 0 231 1255 0 0
cpu0 110894 72 10100 8398 417 0 89 591 0 0
cpu1 110393 248 9870 9029 242 0 141 664 0 0
)";

const char* kMeminfo = R"(MemTotal:       24731184 kB
MemFree:         5094828 kB
MemAvailable:   11740988 kB
Buffers:           83060 kB
Cached:          6689424 kB
SwapTotal:             0 kB
)";

const char* kNetDev = R"(Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 201456796  485625    0    0    0     0          0         0 201456796  485625    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 353861287   10613    0    0    0     0          0         0   547920    6677    0    0    0     0       0          0
 wlan0:1000 5 0 0 0 0 0 0 2000 5 0 0 0 0 0 0
)";

void write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

}  // namespace

TEST_CASE("the cpu line of /proc/stat sums busy and total ticks, and counts cores") {
  auto t = parse_proc_stat(kStat2Core);
  // busy = user + nice + system + irq + softirq + steal; total adds idle and iowait
  CHECK(t.busy == 221187 + 320 + 19870 + 0 + 231 + 1255);
  CHECK(t.total == t.busy + 17128 + 659);
  CHECK(t.cores == 2);
}

TEST_CASE("cpu usage is the busy share of the ticks between two readings") {
  auto before = parse_proc_stat(kStat2Core);
  auto after = parse_proc_stat(kStat2CoreLater);
  // 200 busy ticks (100 user + 100 system) out of 500 (300 idle)
  CHECK(cpu_usage_between(before, after) == Approx(0.4));
  CHECK(cpu_usage_between(before, before) == 0.0);
  CHECK(cpu_usage_between(after, before) == 0.0);  // a counter going back (reboot) is not negative usage
}

TEST_CASE("malformed /proc/stat is an error naming the file") {
  CHECK_THROWS_WITH(parse_proc_stat("intr 1 2 3\n"), Catch::Contains("/proc/stat"));
  CHECK_THROWS_WITH(parse_proc_stat("cpu 1 2 3\n"), Catch::Contains("fewer than 8"));
  CHECK_THROWS_WITH(parse_proc_stat("cpu 1 2 x 4 5 6 7 8\n"), Catch::Contains("not a number"));
}

TEST_CASE("meminfo gives total and available memory in bytes") {
  auto m = parse_meminfo(kMeminfo);
  CHECK(m.total_bytes == 24731184ull * 1024);
  CHECK(m.available_bytes == 11740988ull * 1024);
  CHECK(m.used_bytes() == (24731184ull - 11740988ull) * 1024);
  CHECK_THROWS_WITH(parse_meminfo("MemTotal: 10 kB\n"), Catch::Contains("MemAvailable"));
}

TEST_CASE("loadavg gives the three averages") {
  auto l = parse_loadavg("16.40 14.69 9.04 23/245 28723\n");
  CHECK(l.one == Approx(16.40));
  CHECK(l.five == Approx(14.69));
  CHECK(l.fifteen == Approx(9.04));
  CHECK_THROWS(parse_loadavg("1.0\n"));
}

TEST_CASE("net/dev sums the interfaces without loopback, also when the name touches the numbers") {
  auto n = parse_net_dev(kNetDev);
  REQUIRE(n.interfaces.size() == 3);
  CHECK(n.interfaces[1].name == "eth0");
  CHECK(n.interfaces[1].rx_bytes == 353861287);
  CHECK(n.interfaces[1].tx_bytes == 547920);
  CHECK(n.interfaces[2].name == "wlan0");
  CHECK(n.rx_bytes() == 353861287 + 1000);
  CHECK(n.tx_bytes() == 547920 + 2000);
  CHECK_THROWS_WITH(parse_net_dev("eth0: 1 2 3\n"), Catch::Contains("eth0"));
}

TEST_CASE("disk usage of a directory comes from statfs") {
  auto d = disk_usage(std::filesystem::temp_directory_path());
  CHECK(d.total_bytes > 0);
  CHECK(d.free_bytes <= d.total_bytes);
  CHECK_THROWS(disk_usage("/no/such/directory/anywhere"));
}

TEST_CASE("NodeMetrics reads a proc tree and computes cpu usage against its previous reading") {
  auto root = std::filesystem::temp_directory_path() / ("agent-proc-" + std::to_string(::getpid()));
  write(root / "stat", kStat2Core);
  write(root / "meminfo", kMeminfo);
  write(root / "loadavg", "0.50 0.25 0.10 1/100 42\n");
  write(root / "net" / "dev", kNetDev);
  NodeMetrics metrics(root, std::filesystem::temp_directory_path(), std::chrono::milliseconds(0));
  write(root / "stat", kStat2CoreLater);
  auto s = metrics.current();
  CHECK(s.cpu_usage == Approx(0.4));
  CHECK(s.cpu_cores == 2);
  CHECK(s.memory.total_bytes == 24731184ull * 1024);
  CHECK(s.load.one == Approx(0.5));
  CHECK(s.network.rx_bytes() == 353861287 + 1000);
  CHECK(s.disk.total_bytes > 0);
  auto again = metrics.current();  // no ticks passed since: no usage, not a division by zero
  CHECK(again.cpu_usage == 0.0);
  std::filesystem::remove_all(root);
}
