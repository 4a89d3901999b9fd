#pragma once
// How instances/ reads and writes its rows, shared by the user side (instances.cpp) and the
// agent side (agent_state.cpp): the instance row, recorded transitions, and the workload an
// instance runs as the agent receives it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "instances/instances.hpp"
#include "store/connection.hpp"

namespace shardlyn::instance_rows {

std::optional<InstanceRecord> find(store::Connection& db, std::string_view id);
std::optional<InstanceRecord> find_in(store::Connection& db, std::string_view org_id, std::string_view id);
std::vector<InstanceRecord> where(store::Connection& db, std::string_view condition, std::string_view value);

// Moves the instance to `to` and records the transition (nothing when it is already there).
void set_state(store::Connection& db, InstanceRecord& record, agentproto::InstanceState to, std::string_view reason,
               std::string_view actor, std::int64_t at);

// The workload with the instance's resources override; 400 naming resources.<field>.
workload::Workload effective(const workload::Workload& base, const std::optional<boost::json::object>& resources);
workload::Resources parse_resources(const workload::Workload& base, const boost::json::object& resources);

// What the agent runs for this instance: variables checked and substituted (SpecError when
// they no longer satisfy the workload's rules).
agentproto::DesiredInstance for_agent(const InstanceRecord& record, const workload::Workload& workload);

std::string to_json_text(const std::map<std::string, std::string>& values);

}  // namespace shardlyn::instance_rows
