-- wrk script: POST /api/threats with one new event per request (the TypeScript server's
-- single-upload shape). Each request differs in attacking address and time, and each run and
-- thread in region, so every one is stored (uploads are anonymised to /16 by default, which
-- the address alone would not survive). Environment: TC_KEY.
local key = os.getenv("TC_KEY")
local n = 0
local threads = 0
local region = "bench"

function setup(thread)
  threads = threads + 1
  thread:set("tag", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + tag)
  region = string.format("bench-%d-%d", math.random(1, 1e9), tag)
end

function request()
  n = n + 1
  local ip = string.format("172.%d.%d.%d", 16 + tag % 16, math.floor(n / 256) % 256, n % 256)
  local ts = string.format("2026-01-%02dT%02d:%02d:%02dZ", 1 + math.floor(n / 86400) % 28,
                           math.floor(n / 3600) % 24, math.floor(n / 60) % 60, n % 60)
  local body = string.format('{"attackSourceIP":"%s","attackType":"brute_force","mitreTechnique":"T1110",' ..
                             '"sigmaRuleMatched":"ssh-brute-force","timestamp":"%s",' ..
                             '"region":"%s","severity":"high"}', ip, ts, region)
  return wrk.format("POST", "/api/threats", {["Content-Type"] = "application/json",
                                             ["Authorization"] = "Bearer " .. key}, body)
end
