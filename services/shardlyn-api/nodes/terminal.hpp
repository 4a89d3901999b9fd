#pragma once
// GET /v1/nodes/{id}/terminal: a shell on the node, a PTY behind the agent's tunnel (permission
// nodes.terminal). Authenticated at the upgrade or by a first `auth` frame, as the console is.
// Frames {"event", "args"}: client -> server `auth` [token], `terminal input` [text],
// `terminal resize` [cols, rows]; server -> client `auth success`, `terminal output` [text],
// `terminal closed` [reason], and `error` [{event, code, message}] for every refused frame.
// Every session is audited when it starts and when it ends (who, which node, how long).
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/http.hpp"
#include "common/websocket.hpp"
#include "http/access.hpp"
#include "nodes/on_node.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct TerminalLimits {
  std::int64_t auth_timeout_s = 30;      // without credentials by then: closed
  std::uint64_t window_bytes = 256 * 1024;  // output the agent may send ahead of the viewer
  unsigned default_cols = 80, default_rows = 24;
};

class TerminalSocket;

class NodeTerminals {
 public:
  NodeTerminals(store::Database& db, const Access& access, AgentRequests& agents, TerminalLimits limits = {})
      : db_(db), access_(access), agents_(agents), limits_(limits) {}
  // The handler of one upgrade (`cols`, `rows` from the query). With credentials at the upgrade,
  // another organisation's node is 404 and an offline one 409 before any frame.
  std::shared_ptr<common::WebSocketHandler> open(common::Request& upgrade);
  // Once a second: closes sessions that never authenticated, and those whose last frames went out.
  void tick();

 private:
  friend class TerminalSocket;
  store::Database& db_;
  const Access& access_;
  AgentRequests& agents_;
  TerminalLimits limits_;
  std::mutex mutex_;
  std::vector<std::weak_ptr<TerminalSocket>> sockets_;
};

}  // namespace shardlyn
