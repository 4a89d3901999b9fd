-- wrk script: POST /api/threats with one new event per request (the TypeScript server's
-- single-upload shape). Each request differs in attacking address, time and region, so every
-- one is stored (uploads are anonymised to /16 by default, so the time keeps them distinct).
-- Environment: TC_KEY.
local key = os.getenv("TC_KEY")
local n = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tag", threads)
end

function request()
  n = n + 1
  local ip = string.format("172.%d.%d.%d", 16 + tag % 16, math.floor(n / 256) % 256, n % 256)
  local ts = string.format("2026-01-%02dT%02d:%02d:%02dZ", 1 + math.floor(n / 86400) % 28,
                           math.floor(n / 3600) % 24, math.floor(n / 60) % 60, n % 60)
  local body = string.format('{"attackSourceIP":"%s","attackType":"brute_force","mitreTechnique":"T1110",' ..
                             '"sigmaRuleMatched":"ssh-brute-force","timestamp":"%s",' ..
                             '"region":"bench-%d","severity":"high"}', ip, ts, tag)
  return wrk.format("POST", "/api/threats", {["Content-Type"] = "application/json",
                                             ["Authorization"] = "Bearer " .. key}, body)
end
