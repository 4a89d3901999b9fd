-- wrk script: POST /api/auth/login for one account, again and again (each a full Argon2id
-- verification and a new session). Environment: LOGIN_EMAIL, LOGIN_PASSWORD.
local body = string.format('{"email":"%s","password":"%s"}', os.getenv("LOGIN_EMAIL"), os.getenv("LOGIN_PASSWORD"))

function request()
  return wrk.format("POST", "/api/auth/login", {["Content-Type"] = "application/json"}, body)
end
