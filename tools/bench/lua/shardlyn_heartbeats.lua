-- wrk script: shardlyn-api agent heartbeats round-robin over the simulated nodes listed in
-- AGENTS_FILE (one agent token per line), each heartbeat with node metrics and no instances.
local tokens = {}
for line in io.lines(os.getenv("AGENTS_FILE")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
local i = math.random(1, #tokens)
local body = '{"v":1,"metrics":{"cpu":{"usage":0.25,"cores":4},' ..
             '"memory":{"total_bytes":8589934592,"available_bytes":4294967296,"used_bytes":4294967296},' ..
             '"disk":{"path":"/var/lib/shardlyn","total_bytes":107374182400,"free_bytes":53687091200,' ..
             '"used_bytes":53687091200},"network":{"rx_bytes":123456,"tx_bytes":654321},' ..
             '"load":{"one":0.5,"five":0.4,"fifteen":0.3}},"instances":[],"desired_version":0}'

function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/v1/agent/heartbeat",
                    {["Content-Type"] = "application/json", ["X-Agent-Token"] = tokens[i]}, body)
end
