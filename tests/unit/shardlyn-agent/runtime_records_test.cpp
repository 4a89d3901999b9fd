// The runtime's parsing and state logic: output lines, stream framing, the workload file,
// /proc/<pid>/stat, cgroup discovery, the container spec and the settings.
#include <catch2/catch.hpp>
#include <boost/json.hpp>

#include "common/error.hpp"
#include "runtime/docker_driver.hpp"
#include "runtime/docker_stream.hpp"
#include "runtime/output_ring.hpp"
#include "runtime/process_driver.hpp"
#include "runtime/process_limits.hpp"
#include "runtime/workload_json.hpp"
#include "settings.hpp"

using namespace agent;

TEST_CASE("output is cut into numbered lines; a partial line waits for its newline") {
  OutputRing ring(3);
  auto first = ring.feed("one\ntw");
  REQUIRE(first.size() == 1);
  CHECK(first[0].seq == 1);
  CHECK(first[0].text == "one");
  auto next = ring.feed("o\r\nthree\nfour\n");
  REQUIRE(next.size() == 3);
  CHECK(next[0].text == "two");  // CR of CRLF dropped
  CHECK(next[2].seq == 4);
  // The ring keeps the last three; a reconnecting console replays after its last seq.
  auto replay = ring.since(2);
  REQUIRE(replay.size() == 2);
  CHECK(replay[0].text == "three");
  CHECK(ring.since(0).size() == 3);
  CHECK(ring.tail(1).front().text == "four");
  CHECK(ring.add("[shardlyn] notice").seq == 5);
}

TEST_CASE("a line without newline is cut at the maximum and flushed at the end") {
  OutputRing ring(10, 4);
  auto lines = ring.feed("abcdefghij");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].text == "abcd");
  CHECK(lines[1].text == "efgh");
  auto rest = ring.flush();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].text == "ij");
  CHECK(ring.flush().empty());
}

TEST_CASE("chunked transfer coding is decoded across arbitrary splits") {
  std::string wire = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    ChunkDecoder d;
    std::string out;
    d.feed(std::string_view(wire).substr(0, split), out);
    d.feed(std::string_view(wire).substr(split), out);
    CHECK(out == "hello, world");
    CHECK(d.finished());
  }
  ChunkDecoder bad;
  std::string out;
  CHECK_THROWS(bad.feed("zz\r\n", out));
}

TEST_CASE("multiplexed container frames are split by stream, also when a frame arrives in pieces") {
  std::string wire;
  wire += std::string("\x01\0\0\0\0\0\0\x06", 8) + "ready\n";
  wire += std::string("\x02\0\0\0\0\0\0\x04", 8) + "err\n";
  FrameDemuxer d;
  auto first = d.feed(wire.substr(0, 10));
  CHECK(first.empty());
  auto frames = d.feed(wire.substr(10));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].stream == 1);
  CHECK(frames[0].data == "ready\n");
  CHECK(frames[1].stream == 2);
  FrameDemuxer raw;
  CHECK_THROWS(raw.feed("plain text, no frames"));
}

TEST_CASE("the workload file round-trips, and a malformed one names the field") {
  Workload w;
  w.instance_id = "abc-1";
  w.command = {"/bin/sh", "-c", "echo hi"};
  w.env = {{"A", "1"}};
  w.limits = {1.5, 1 << 20, 10, 64};
  w.stop = {"quit", 2, std::chrono::milliseconds(1500), std::chrono::milliseconds(500)};
  auto back = workload_from_json(to_json(w));
  CHECK(back.command == w.command);
  CHECK(back.env == w.env);
  CHECK(back.limits.cpu == 1.5);
  CHECK(back.stop.command == "quit");
  CHECK(back.stop.signal == 2);
  CHECK(back.stop.timeout.count() == 1500);
  auto broken = to_json(w);
  broken.erase("command");
  CHECK_THROWS_WITH(workload_from_json(broken), Catch::Contains("command"));
  broken = to_json(w);
  broken["limits"] = "x";
  CHECK_THROWS_AS(workload_from_json(broken), RuntimeError);
}

TEST_CASE("instance ids that could leave DATA_DIR/instances are refused") {
  CHECK_NOTHROW(check_instance_id("inst_01-a"));
  CHECK_THROWS(check_instance_id(""));
  CHECK_THROWS(check_instance_id("../etc"));
  CHECK_THROWS(check_instance_id("a/b"));
  CHECK_THROWS(check_instance_id(std::string(65, 'a')));
}

TEST_CASE("/proc/<pid>/stat fields are read after the command name, which may hold spaces and parentheses") {
  std::string text =
      "4242 (my (odd) cmd) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000000 321 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto s = parse_proc_pid_stat(text);
  REQUIRE(s);
  CHECK(s->state == 'S');
  CHECK(s->pgrp == 4240);
  CHECK(s->utime_ticks == 250);
  CHECK(s->stime_ticks == 50);
  CHECK(s->rss_pages == 321);
  CHECK_FALSE(parse_proc_pid_stat("4242 (x) S 1 2"));
}

TEST_CASE("the cgroup2 mount is found in mountinfo, and cpu.max is quota and period") {
  std::string hybrid =
      "30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
      "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw\n"
      "32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CHECK(cgroup2_mount(hybrid) == std::filesystem::path("/sys/fs/cgroup/unified"));
  CHECK_FALSE(cgroup2_mount("32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"));
  CHECK(cpu_max(1.5) == "150000 100000");
  CHECK(cpu_max(0) == "max");
  CHECK(cpu_max(0.001) == "1000 100000");  // the kernel's minimum quota
}

TEST_CASE("containers are created hardened unless the workload asks for a writable root") {
  Workload w;
  w.instance_id = "i1";
  w.image = "localhost/busybox:test";
  w.command = {"/bin/sh"};
  w.limits = {0.5, 64 << 20, 32, 128};
  auto spec = container_spec(w, "/data/instances/i1");
  const auto& host = spec.at("HostConfig").as_object();
  CHECK(host.at("ReadonlyRootfs").as_bool());
  CHECK(host.at("SecurityOpt").as_array().front().as_string() == "no-new-privileges");
  CHECK(host.at("CapDrop").as_array().front().as_string() == "ALL");
  CHECK(host.at("Tmpfs").as_object().contains("/tmp"));
  CHECK(host.at("NanoCpus").as_int64() == 500000000);
  CHECK(host.at("Binds").as_array().front().as_string() == "/data/instances/i1:/home/container");
  CHECK(spec.at("Labels").as_object().at(kInstanceLabel).as_string() == "i1");
  CHECK(spec.at("WorkingDir").as_string() == "/home/container");
  w.read_only_root = false;
  auto writable = container_spec(w, "/r");
  CHECK_FALSE(writable.at("HostConfig").as_object().at("ReadonlyRootfs").as_bool());
  CHECK_FALSE(writable.at("HostConfig").as_object().contains("Tmpfs"));
}

TEST_CASE("DOCKER_HOST takes unix sockets only") {
  CHECK(docker_socket_path("unix:///var/run/docker.sock") == "/var/run/docker.sock");
  CHECK_THROWS_AS(docker_socket_path("tcp://127.0.0.1:2375"), common::ConfigError);
  CHECK_THROWS_AS(docker_socket_path("unix://"), common::ConfigError);
}
