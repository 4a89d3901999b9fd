#include "tunnel/routes.hpp"

#include <boost/json.hpp>

#include "common/clock.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::object stats_json(const TunnelStats& s) {
  return {{"since", common::rfc3339_from_unix(s.since)},
          {"agents", s.agents},
          {"channels", s.channels},
          {"pending_requests", s.pending_requests},
          {"connections", s.connections},
          {"replaced", s.replaced},
          {"disconnections", s.disconnections},
          {"requests", s.requests},
          {"responses", s.responses},
          {"timeouts", s.timeouts},
          {"refused_offline", s.refused_offline},
          {"channels_opened", s.channels_opened},
          {"frames_in", s.frames_in},
          {"frames_out", s.frames_out},
          {"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          {"bad_frames", s.bad_frames}};
}

json::object agent_json(const AgentLink& a) {
  return {{"node_id", a.node_id},
          {"organization_id", a.org_id},
          {"connected_at", common::rfc3339_from_unix(a.connected_at)},
          {"remote_ip", a.remote_ip},
          {"channels", a.channels},
          {"pending_requests", a.pending_requests},
          {"channels_opened", a.channels_opened},
          {"requests", a.requests},
          {"frames_in", a.frames_in},
          {"frames_out", a.frames_out},
          {"bytes_in", a.bytes_in},
          {"bytes_out", a.bytes_out}};
}

common::Response show_stats(TunnelHub& hub, common::Request&) { return common::Response::json(stats_json(hub.stats())); }

common::Response list_agents(TunnelHub& hub, common::Request&) {
  json::array items;
  for (const auto& a : hub.agents()) items.push_back(agent_json(a));
  auto total = items.size();
  return common::Response::json({{"items", std::move(items)}, {"total", total}});
}

}  // namespace

Routes tunnel_routes(TunnelHub& hub) {
  const Guard admin{Auth::Admin, OrgScope::None};
  return group("/v1/tunnel", admin,
               {
                   get("/stats", "admin.tunnel", bind(hub, show_stats)),
                   get("/agents", "admin.tunnel", bind(hub, list_agents)),
               });
}

Routes agent_tunnel_routes(TunnelHub& hub) {
  // One tunnel per agent for hours: exempt from the request limits, kept alive by pings.
  auto route = websocket("/v1/agent/tunnel", "",
                         {.open = [&hub](common::Request& req) { return hub.accept(agent_of(req), req.client_ip); },
                          .limits = {.max_message_bytes = 4 << 20, .send_queue_bytes = 16 << 20}},
                         {.limit = "agent"});
  route.auth = std::string(kAgentAuth);
  route.scope = std::string(scope_name(OrgScope::None));
  route.ip_limit = false;
  return {std::move(route)};
}

}  // namespace shardlyn
