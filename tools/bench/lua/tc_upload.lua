-- wrk script: POST /api/threats with one new event per request (the TypeScript server's
-- single-upload shape), a different attacking address each time. Environment: TC_KEY.
local key = os.getenv("TC_KEY")
local n = 0
local tag = 0

function setup(thread)
  tag = tag + 1
  thread:set("tag", tag)
end

function request()
  n = n + 1
  local ip = string.format("172.%d.%d.%d", 16 + (tag or 1) % 16, math.floor(n / 256) % 256, n % 256)
  local body = string.format('{"attackSourceIP":"%s","attackType":"brute_force","mitreTechnique":"T1110",' ..
                             '"sigmaRuleMatched":"ssh-brute-force","timestamp":"2026-01-31T12:00:%02dZ",' ..
                             '"region":"eu-west","severity":"high"}', ip, n % 60)
  return wrk.format("POST", "/api/threats", {["Content-Type"] = "application/json",
                                             ["Authorization"] = "Bearer " .. key}, body)
end
