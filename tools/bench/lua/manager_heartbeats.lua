-- wrk script: heartbeats round-robin over the simulated agents listed in AGENTS_FILE
-- (lines "id token"), each with its own token.
local agents = {}
for line in io.lines(os.getenv("AGENTS_FILE")) do
  local id, token = line:match("^(%S+) (%S+)$")
  if id then agents[#agents + 1] = {id, token} end
end
local i = math.random(1, #agents)
local body = '{"cpuUsage":12.5,"memUsage":40,"activeMonitors":3,"threatCount":0,"eventsProcessed":10,' ..
             '"mode":"protection","uptime":3600}'

function request()
  i = i % #agents + 1
  local a = agents[i]
  return wrk.format("POST", "/api/agents/" .. a[1] .. "/heartbeat",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. a[2]}, body)
end
