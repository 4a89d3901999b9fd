-- wrk script: GET /api/iocs/<ip> for random addresses of the loaded set 10.0.0.0 - 10.15.66.63
-- (1,000,000 addresses), so nearly every lookup finds an IoC. Environment: TC_KEY, TC_COUNT.
local key = os.getenv("TC_KEY")
local count = tonumber(os.getenv("TC_COUNT") or "1000000")
math.randomseed(os.time() + math.random(1, 1e6))

function request()
  local i = math.random(0, count - 1)
  local path = string.format("/api/iocs/10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. key})
end
