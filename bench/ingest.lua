-- wrk script: POST the seed webhook body, with a per-thread prefix and per-request counter so every body is
-- distinct (the relay treats a repeated body as the same delivery, which would flatter the figures).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local counter = 0
local run = 0
-- "wrk ... -s ingest.lua URL -- <run>": runs with different numbers never repeat each other's bodies.
function init(args)
  run = tonumber(args[1] or "0")
end
local template = [[{"bothelp_user_id":%d,"name":"ИМЯТЕСТ","first_name":"Anton","last_name":"R","phone":"79999999999","email":"test@example.com","utm_source":"VK","utm_campaign":"messenger","Бюджет":"9000","Тип продукта":"МАРКАТЕСТ","пожелания":"ПОЖЕЛАНИЯТЕСТ","страна":"Япония🇯🇵"}]]

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.format(template, run * 1000000000000 + thread_id * 1000000000 + counter))
end

done = function(summary, latency, requests)
  io.write(string.format("accepted/s: %.0f  p50: %.2f ms  p99: %.2f ms  non-2xx: %d  errors: %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
