#include <catch2/catch.hpp>

#include "workload/placement.hpp"

using namespace workload;

namespace {
constexpr std::int64_t Gi = 1LL << 30;
NodeLoad node(std::string id, std::int64_t cpu, std::int64_t mem_gi, std::int64_t used_cpu = 0,
              std::int64_t used_gi = 0, bool schedulable = true) {
  return {std::move(id), schedulable, {cpu, mem_gi * Gi, 100 * Gi}, {used_cpu, used_gi * Gi, 0}};
}
}  // namespace

TEST_CASE("best fit picks the node left fullest") {
  std::vector<NodeLoad> nodes{node("a", 8000, 32), node("b", 4000, 8, 2000, 4), node("c", 4000, 16)};
  auto p = place({1000, 2 * Gi, Gi}, nodes);
  REQUIRE(p.node_id);
  CHECK(*p.node_id == "b");
}

TEST_CASE("cordoned nodes and nodes without room are skipped") {
  std::vector<NodeLoad> nodes{node("a", 4000, 8, 0, 0, false), node("b", 4000, 2), node("c", 4000, 8)};
  CHECK(place({1000, 4 * Gi, 0}, nodes).node_id == "c");
}

TEST_CASE("ties go to the smallest id") {
  std::vector<NodeLoad> nodes{node("n2", 4000, 8), node("n1", 4000, 8), node("n3", 4000, 8)};
  CHECK(place({1000, Gi, 0}, nodes).node_id == "n1");
}

TEST_CASE("when nothing fits the reason says why") {
  CHECK(place({1000, Gi, 0}, {}).reason == "there are no nodes; register one first");
  CHECK(place({1000, Gi, 0}, {node("a", 4000, 8, 0, 0, false)}).reason == "every node is cordoned or not healthy");
  auto p = place({6000, 16 * Gi, 0}, {node("a", 4000, 8, 1000, 2), node("b", 8000, 4)});
  CHECK_FALSE(p.node_id);
  CHECK(p.reason == "no schedulable node has room for the request; memory: 16Gi asked, at most 6Gi free");
  auto q = place({9000, Gi, 0}, {node("a", 4000, 8)});
  CHECK(q.reason == "no schedulable node has room for the request; cpu: 9 cpu asked, at most 4 cpu free");
}

TEST_CASE("an exact fit is allowed") { CHECK(place({4000, 8 * Gi, 100 * Gi}, {node("a", 4000, 8)}).node_id == "a"); }

TEST_CASE("a workload's requests become the placement request") {
  Amounts requests{500, 512LL << 20, std::nullopt};
  CHECK(request_of(requests) == Capacity{500, 512LL << 20, 0});
}
