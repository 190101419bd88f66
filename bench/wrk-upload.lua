-- wrk script of bench/ingest-cost.ts: POSTs one prepared multipart body to /v1/jobs and prints the
-- run as one JSON line (latencies in microseconds).
--   wrk -t1 -c4 -d8s -s bench/wrk-upload.lua http://127.0.0.1:PORT/v1/jobs -- BODY_FILE BOUNDARY API_KEY

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. args[2]
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"durationUs":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latencyUs":{"min":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.duration, summary.requests, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
