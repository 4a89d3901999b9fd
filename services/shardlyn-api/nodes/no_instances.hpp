#pragma once
// NodeInstances before instances/ exists: no node holds an instance, so heartbeats report none
// worth keeping, a drain has nothing to stop and every node may be deleted.
#include "nodes/runtime_seams.hpp"

namespace shardlyn {

class NoInstances final : public NodeInstances {
 public:
  void observe(const std::string&, const std::vector<agentproto::InstanceReport>&) override {}
  DrainOutcome drain(const std::string&, std::chrono::system_clock::time_point) override { return {}; }
  std::size_t count_on(const std::string&) const override { return 0; }
};

}  // namespace shardlyn
