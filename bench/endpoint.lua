-- wrk script for one endpoint. Set by the environment:
--   BENCH_METHOD  GET or POST (default POST)
--   BENCH_BODY    the JSON body; "{phone}" in it becomes a fresh phone per request
--   BENCH_CODES   a file of "phone code" lines: each request signs in with the next one
--                 (BENCH_BODY unused), each thread taking every BENCH_THREADS-th line
-- Prints one JSON line, prefixed BENCH_RESULT, with throughput and latency.
local method = os.getenv("BENCH_METHOD") or "POST"
local body = os.getenv("BENCH_BODY") or ""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local codes_file = os.getenv("BENCH_CODES")
  if codes_file then
    codes, next_code, step = {}, thread_id + 1, tonumber(os.getenv("BENCH_THREADS"))
    for line in io.lines(codes_file) do table.insert(codes, line) end
  end
  wrk.method = method
  wrk.headers["Content-Type"] = "application/json"
  if body ~= "" and not body:find("{phone}", 1, true) then
    wrk.body = body
  end
  statuses = {}
end

function request()
  if codes then
    -- Past the last code the line repeats, and the used code's 50001 shows as unexpected.
    local phone, code = (codes[next_code] or codes[#codes]):match("(%S+) (%S+)")
    next_code = next_code + step
    return wrk.format(nil, nil, nil, string.format('{"phone":"%s","code":"%s"}', phone, code))
  end
  if body:find("{phone}", 1, true) then
    counter = counter + 1
    -- 13 + 9 digits: the run (BENCH_RUN, distinct for every wrk run), the thread and a
    -- counter, so that no two requests of one benchmark share a phone.
    local phone = string.format("13%02d%01d%06d", tonumber(os.getenv("BENCH_RUN") or "0") % 100, thread_id % 10,
      counter % 1000000)
    return wrk.format(nil, nil, nil, body:gsub("{phone}", phone))
  end
  return wrk.format()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s) do
      counts[tostring(status)] = (counts[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%s":%d', status, n))
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.mean,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end
