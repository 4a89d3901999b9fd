-- wrk script: GET /api/auth/me with a bearer token. Environment: ACCESS_TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACCESS_TOKEN")
