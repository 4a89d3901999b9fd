#pragma once
// Instance Endpoints, Console & Logs: the console and logs WebSockets and the log history,
// download and clear routes over the API's console journal (decision 0033).
#include "http/route_table.hpp"
#include "tunnel/console_socket.hpp"

namespace shardlyn {

Routes console_routes(ConsoleArea& area);

}  // namespace shardlyn
