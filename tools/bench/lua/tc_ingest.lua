-- wrk script: POST /api/iocs with 1000 new IPv6 IoCs per request, every value unique across
-- threads and requests (so each one is an insert). Environment: TC_KEY.
local key = os.getenv("TC_KEY")
local counter = 0
local thread_tag = math.random(1, 65535)

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, 1000 do
    parts[i] = string.format('{"value":"2001:db8:%x:%x::%x","reputation":80,"threatType":"scanner"}',
                             thread_tag, counter, i)
  end
  local body = '{"iocs":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/iocs",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
