#include "http/node_routes.hpp"

#include <boost/json.hpp>

#include "common/clock.hpp"
#include "node/metrics.hpp"

namespace agent {

namespace {

boost::json::object sample_json(const NodeSample& s) {
  boost::json::array interfaces;
  for (const auto& i : s.network.interfaces)
    interfaces.push_back({{"name", i.name}, {"rx_bytes", i.rx_bytes}, {"tx_bytes", i.tx_bytes}});
  return {
      {"sampled_at", common::rfc3339(s.sampled_at)},
      {"cpu", {{"usage", s.cpu_usage}, {"cores", s.cpu_cores}}},
      {"memory",
       {{"total_bytes", s.memory.total_bytes},
        {"available_bytes", s.memory.available_bytes},
        {"used_bytes", s.memory.used_bytes()}}},
      {"load", {{"one", s.load.one}, {"five", s.load.five}, {"fifteen", s.load.fifteen}}},
      {"disk",
       {{"path", s.disk.path},
        {"total_bytes", s.disk.total_bytes},
        {"free_bytes", s.disk.free_bytes},
        {"used_bytes", s.disk.used_bytes()}}},
      {"network",
       {{"rx_bytes", s.network.rx_bytes()}, {"tx_bytes", s.network.tx_bytes()}, {"interfaces", std::move(interfaces)}}},
  };
}

common::Response node_metrics(NodeMetrics& metrics, common::Request&) {
  return common::Response::json(sample_json(metrics.current()));
}

}  // namespace

std::vector<common::Route> node_routes(NodeMetrics& metrics) {
  return {
      {.method = "GET", .path = "/v1/node/metrics", .handler = [&metrics](common::Request& r) { return node_metrics(metrics, r); }},
  };
}

void export_node_gauges(common::metrics::Registry& registry, NodeMetrics& metrics) {
  using Read = double (*)(const NodeSample&);
  struct Gauge {
    const char* name;
    const char* help;
    Read read;
  };
  static const Gauge gauges[] = {
      {"shardlyn_agent_node_cpu_usage_ratio", "Busy share of all CPU cores since the previous reading",
       [](const NodeSample& s) { return s.cpu_usage; }},
      {"shardlyn_agent_node_cpu_cores", "CPU cores of the node", [](const NodeSample& s) { return double(s.cpu_cores); }},
      {"shardlyn_agent_node_memory_total_bytes", "Memory of the node",
       [](const NodeSample& s) { return double(s.memory.total_bytes); }},
      {"shardlyn_agent_node_memory_available_bytes", "Memory available without swapping (MemAvailable)",
       [](const NodeSample& s) { return double(s.memory.available_bytes); }},
      {"shardlyn_agent_node_load1", "Load average over 1 minute", [](const NodeSample& s) { return s.load.one; }},
      {"shardlyn_agent_node_load5", "Load average over 5 minutes", [](const NodeSample& s) { return s.load.five; }},
      {"shardlyn_agent_node_load15", "Load average over 15 minutes", [](const NodeSample& s) { return s.load.fifteen; }},
      {"shardlyn_agent_node_disk_total_bytes", "Size of the filesystem holding DATA_DIR",
       [](const NodeSample& s) { return double(s.disk.total_bytes); }},
      {"shardlyn_agent_node_disk_free_bytes", "Free space on the filesystem holding DATA_DIR",
       [](const NodeSample& s) { return double(s.disk.free_bytes); }},
      {"shardlyn_agent_node_network_receive_bytes", "Bytes received by the node's interfaces (loopback excluded)",
       [](const NodeSample& s) { return double(s.network.rx_bytes()); }},
      {"shardlyn_agent_node_network_transmit_bytes", "Bytes sent by the node's interfaces (loopback excluded)",
       [](const NodeSample& s) { return double(s.network.tx_bytes()); }},
  };
  for (const auto& g : gauges)
    registry.gauge_callback(g.name, g.help, [&metrics, read = g.read] { return read(metrics.current()); });
}

}  // namespace agent
