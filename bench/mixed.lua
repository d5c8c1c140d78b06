-- wrk script for the mixed load: every flow of the API, each response checked against the
-- status its flow must get. Run with as many threads as connections: each thread then has
-- one connection with at most one request outstanding, so the flow of the next request is
-- the one of the next answer (a request re-sent after a reconnect repeats its flow).
-- Set by the environment: BENCH_JWT, BENCH_REFRESH_JWT, BENCH_ACCOUNT, BENCH_PWD.
local jwt = os.getenv("BENCH_JWT")
local refresh_jwt = os.getenv("BENCH_REFRESH_JWT")
local account = os.getenv("BENCH_ACCOUNT")
local pwd = os.getenv("BENCH_PWD")
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  answered = 0
  unexpected = 0
end

local function json_post(path, body)
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
end

-- One entry per flow, with the HTTP status it must answer. Weighted toward the cheap,
-- frequent calls a frontend makes; logins and registrations cost a PBKDF2 each.
local flows = {
  function() return json_post("/login/jwt/status", '{"jwt":"' .. jwt .. '"}'), 200 end,
  function() return json_post("/login/jwt/status", '{"jwt":"' .. jwt .. '"}'), 200 end,
  function() return json_post("/login/jwt/status", '{"jwt":"' .. jwt .. '"}'), 200 end,
  function() return json_post("/login/jwt/refresh", '{"jwt":"' .. refresh_jwt .. '"}'), 200 end,
  function() return json_post("/login/jwt/refresh", '{"jwt":"' .. refresh_jwt .. '"}'), 200 end,
  function() return wrk.format("GET", "/healthz"), 200 end,
  function()
    local phone = string.format("14%02d%07d", thread_id, answered % 10000000)
    return json_post("/login/send/sms", '{"phone":"' .. phone .. '"}'), 200
  end,
  function() return json_post("/login/jwt/get", '{"account":"' .. account .. '","pwd":"' .. pwd .. '"}'), 200 end,
  function() return json_post("/login/jwt/get", '{"account":"nobody_here","pwd":"wrong_pw"}'), 401 end,
  function() return json_post("/login/register", '{"account":"x","password":"short"}'), 422 end,
  function() return json_post("/login/jwt/status", '[]'), 400 end,
  function() return json_post("/login/jwt/status", '{"jwt":"not.a.token"}'), 401 end,
  function() return wrk.format("GET", "/login/jwt/get"), 405 end,
  function() return wrk.format("GET", "/nope"), 404 end,
}

local function flow(n)
  return flows[(n % #flows) + 1]
end

function request()
  local req, _ = flow(answered)()
  return req
end

function response(status, headers, body)
  local _, want = flow(answered)()
  answered = answered + 1
  if status ~= want then
    unexpected = unexpected + 1
    if unexpected <= 3 then
      io.stderr:write(string.format("unexpected %d (wanted %d): %s\n", status, want, body:sub(1, 200)))
    end
  end
end

function done(summary, latency, requests)
  local total_unexpected, total_checked = 0, 0
  for _, thread in ipairs(threads) do
    total_unexpected = total_unexpected + thread:get("unexpected")
    total_checked = total_checked + thread:get("answered")
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"checked":%d,"unexpected":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"socket_errors":%d}\n',
    summary.requests, total_checked, total_unexpected, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
