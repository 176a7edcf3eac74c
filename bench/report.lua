-- wrk's summary in a form bench/load.py parses: one "BENCH key=value" per line.
-- Latencies are in microseconds.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d\n", summary.requests))
  io.write(string.format("BENCH duration_us=%d\n", summary.duration))
  io.write(string.format("BENCH bytes=%d\n", summary.bytes))
  io.write(string.format("BENCH errors_connect=%d\n", e.connect))
  io.write(string.format("BENCH errors_read=%d\n", e.read))
  io.write(string.format("BENCH errors_write=%d\n", e.write))
  io.write(string.format("BENCH errors_status=%d\n", e.status))
  io.write(string.format("BENCH errors_timeout=%d\n", e.timeout))
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("BENCH p%d=%d\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH mean=%d\n", math.floor(latency.mean)))
  io.write(string.format("BENCH max=%d\n", latency.max))
end
