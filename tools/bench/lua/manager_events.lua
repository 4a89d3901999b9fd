-- wrk script: POST /api/agents/<id>/events with 100 threats per request, every event id unique
-- (so each one is really stored, not counted as a retried duplicate).
-- Environment: AGENT_ID, AGENT_TOKEN.
local agent = os.getenv("AGENT_ID")
local token = os.getenv("AGENT_TOKEN")
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format(
      '{"event":{"id":"b-%s-%d-%d","timestamp":"2026-11-22T12:00:00Z","source":"bench","severity":"medium",' ..
      '"category":"scan","description":"bench","metadata":{"sourceIP":"198.51.100.%d"}},' ..
      '"verdict":{"conclusion":"suspicious","confidence":60}}', thread_tag, counter, i, i % 250)
  end
  local body = '{"threats":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/agents/" .. agent .. "/events",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
