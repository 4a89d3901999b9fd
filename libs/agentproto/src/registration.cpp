// Registration and heartbeat documents.
#include "agentproto/json.hpp"
#include "reader.hpp"

namespace agentproto {

using detail::Reader;
namespace json = boost::json;

void tag_invoke(json::value_from_tag, json::value& out, const RegisterRequest& m) {
  out = {{"v", kVersion},          {"token", m.token},
         {"hostname", m.hostname}, {"os", m.os},
         {"arch", m.arch},         {"cpu_count", m.cpu_count},
         {"memory_bytes", m.memory_bytes}, {"disk_bytes", m.disk_bytes},
         {"agent_version", m.agent_version}, {"drivers", detail::to_array(m.drivers)}};
}

RegisterRequest tag_invoke(json::value_to_tag<RegisterRequest>, const json::value& in) {
  Reader r(in, "register");
  r.version();
  RegisterRequest m;
  m.token = r.string("token");
  m.hostname = r.string("hostname");
  m.os = r.string("os");
  m.arch = r.string("arch");
  m.cpu_count = r.u32("cpu_count");
  m.memory_bytes = r.u64("memory_bytes");
  m.disk_bytes = r.u64("disk_bytes");
  m.agent_version = r.string("agent_version");
  m.drivers = r.strings("drivers");
  r.done();
  if (m.token.empty()) r.fail("token", "must not be empty");
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const RegisterResponse& m) {
  out = {{"v", kVersion}, {"node_id", m.node_id}, {"agent_token", m.agent_token},
         {"heartbeat_interval_s", m.heartbeat_interval_s}};
}

RegisterResponse tag_invoke(json::value_to_tag<RegisterResponse>, const json::value& in) {
  Reader r(in, "registered");
  r.version();
  RegisterResponse m;
  m.node_id = r.string("node_id");
  m.agent_token = r.string("agent_token");
  m.heartbeat_interval_s = r.u32("heartbeat_interval_s");
  r.done();
  if (m.agent_token.empty()) r.fail("agent_token", "must not be empty");
  if (m.heartbeat_interval_s == 0) r.fail("heartbeat_interval_s", "must be at least 1");
  return m;
}

namespace {

json::object metrics_json(const NodeMetrics& m) {
  return {
      {"cpu", {{"usage", m.cpu.usage}, {"cores", m.cpu.cores}}},
      {"memory",
       {{"total_bytes", m.memory.total_bytes}, {"available_bytes", m.memory.available_bytes},
        {"used_bytes", m.memory.used_bytes}}},
      {"disk",
       {{"path", m.disk.path}, {"total_bytes", m.disk.total_bytes}, {"free_bytes", m.disk.free_bytes},
        {"used_bytes", m.disk.used_bytes}}},
      {"network", {{"rx_bytes", m.network.rx_bytes}, {"tx_bytes", m.network.tx_bytes}}},
      {"load", {{"one", m.load.one}, {"five", m.load.five}, {"fifteen", m.load.fifteen}}},
  };
}

NodeMetrics read_metrics(Reader r) {
  NodeMetrics m;
  auto cpu = r.object("cpu");
  m.cpu = {cpu.number("usage"), cpu.u32("cores")};
  cpu.done();
  if (m.cpu.usage < 0 || m.cpu.usage > 1) cpu.fail("usage", "must be between 0 and 1");
  auto mem = r.object("memory");
  m.memory = {mem.u64("total_bytes"), mem.u64("available_bytes"), mem.u64("used_bytes")};
  mem.done();
  auto disk = r.object("disk");
  m.disk = {disk.string("path"), disk.u64("total_bytes"), disk.u64("free_bytes"), disk.u64("used_bytes")};
  disk.done();
  auto net = r.object("network");
  m.network = {net.u64("rx_bytes"), net.u64("tx_bytes")};
  net.done();
  auto load = r.object("load");
  m.load = {load.number("one"), load.number("five"), load.number("fifteen")};
  load.done();
  r.done();
  return m;
}

InstanceStats read_stats(Reader s) {
  InstanceStats out{s.number("cpu_seconds"), s.u64("memory_bytes"), s.u64("memory_limit_bytes"), s.u64("pids"),
                    s.u64("rx_bytes"),       s.u64("tx_bytes"),     s.u64("uptime_ms"),          s.opt_u64("disk_bytes")};
  s.done();
  return out;
}

json::object report_json(const InstanceReport& i) {
  json::object o{{"id", i.id}, {"state", to_string(i.state)}, {"stats", json::value_from(i.stats)}};
  if (i.exit_code) o["exit_code"] = *i.exit_code;
  return o;
}

InstanceReport read_report(Reader& r) {
  InstanceReport i;
  i.id = r.string("id");
  i.state = r.choice<InstanceState>("state", detail::kInstanceStates);
  i.exit_code = r.opt_integer("exit_code");
  i.stats = read_stats(r.object("stats"));
  return i;
}

}  // namespace

void tag_invoke(json::value_from_tag, json::value& out, const Heartbeat& m) {
  json::array instances;
  for (const auto& i : m.instances) instances.push_back(report_json(i));
  out = {{"v", kVersion}, {"metrics", metrics_json(m.metrics)}, {"instances", std::move(instances)},
         {"desired_version", m.desired_version}};
}

void tag_invoke(json::value_from_tag, json::value& out, const InstanceStats& s) {
  json::object o{{"cpu_seconds", s.cpu_seconds}, {"memory_bytes", s.memory_bytes},
                 {"memory_limit_bytes", s.memory_limit_bytes}, {"pids", s.pids}, {"rx_bytes", s.rx_bytes},
                 {"tx_bytes", s.tx_bytes}, {"uptime_ms", s.uptime_ms}};
  if (s.disk_bytes) o["disk_bytes"] = *s.disk_bytes;
  out = std::move(o);
}

InstanceStats tag_invoke(json::value_to_tag<InstanceStats>, const json::value& in) {
  return read_stats(Reader(in, "stats"));
}

Heartbeat tag_invoke(json::value_to_tag<Heartbeat>, const json::value& in) {
  Reader r(in, "heartbeat");
  r.version();
  Heartbeat m;
  m.metrics = read_metrics(r.object("metrics"));
  r.each("instances", [&](Reader& i) { m.instances.push_back(read_report(i)); });
  m.desired_version = r.u64("desired_version");
  r.done();
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const HeartbeatResponse& m) {
  out = {{"v", kVersion}, {"desired_version", m.desired_version}, {"heartbeat_interval_s", m.heartbeat_interval_s}};
}

HeartbeatResponse tag_invoke(json::value_to_tag<HeartbeatResponse>, const json::value& in) {
  Reader r(in, "heartbeat_response");
  r.version();
  HeartbeatResponse m;
  m.desired_version = r.u64("desired_version");
  m.heartbeat_interval_s = r.u32("heartbeat_interval_s");
  r.done();
  if (m.heartbeat_interval_s == 0) r.fail("heartbeat_interval_s", "must be at least 1");
  return m;
}

}  // namespace agentproto
