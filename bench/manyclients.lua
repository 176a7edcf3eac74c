-- wrk: every request from another client address (X-Forwarded-For, the benchmark playing one
-- trusted proxy), so that per-client limits do not apply; the summary as report.lua writes it.
dofile("bench/report.lua")

request = function()
  wrk.headers["X-Forwarded-For"] = string.format("198.51.100.%d", math.random(1, 250))
  return wrk.format(nil)
end
