-- wrk script: POST /api/iocs with 1000 new IPv6 IoCs per request, every value unique across
-- threads and requests (so each one is an insert). Environment: TC_KEY.
-- Each wrk thread has its own Lua state with the same unseeded random sequence, so the thread
-- number from setup() (not math.random) keeps the threads' values apart.
local key = os.getenv("TC_KEY")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_tag", threads)
end

local counter = 0

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
