#include <catch2/catch.hpp>

#include "nodes/nodes.hpp"

namespace {

const shardlyn::NodeSettings kSettings{.agent_api_url = "http://127.0.0.1:8090",
                                       .heartbeat_interval_s = 10,
                                       .unhealthy_after_s = 30,
                                       .offline_after_s = 300};

}  // namespace

TEST_CASE("node status: offline before the first heartbeat", "[shardlyn-api][nodes]") {
  CHECK(shardlyn::node_status(kSettings, std::nullopt, 1000) == "offline");
}

TEST_CASE("node status: from the age of the last heartbeat, limits included", "[shardlyn-api][nodes]") {
  CHECK(shardlyn::node_status(kSettings, 1000, 1000) == "healthy");
  CHECK(shardlyn::node_status(kSettings, 1000, 1030) == "healthy");
  CHECK(shardlyn::node_status(kSettings, 1000, 1031) == "unhealthy");
  CHECK(shardlyn::node_status(kSettings, 1000, 1300) == "unhealthy");
  CHECK(shardlyn::node_status(kSettings, 1000, 1301) == "offline");
}
