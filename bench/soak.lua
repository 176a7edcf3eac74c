-- The soak's public GETs (bench/soak.py): each request a random line of the paths file
-- ("kind<TAB>path"), and every response written to this thread's file as
-- "start_us<TAB>kind<TAB>status<TAB>latency_us<TAB>path" (CLOCK_MONOTONIC, the clock of Python's
-- time.monotonic()). Run with one connection per thread (-t = -c), so that request() and
-- response() alternate and the time between them is that request's latency.
-- Arguments after "--": the paths file, the directory for the threads' files.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clk_id, soak_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local now = ffi.new("soak_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000000 + math.floor(tonumber(now.tv_nsec) / 1000)
end

local count = 0
setup = function(thread)
  count = count + 1
  thread:set("id", count)
end

local kinds, paths = {}, {}
local out, started, kind, path, written = nil, 0, nil, nil, 0

init = function(args)
  for line in io.lines(args[1]) do
    local k, p = line:match("^([^\t]+)\t(.+)$")
    if k then
      kinds[#kinds + 1] = k
      paths[#paths + 1] = p
    end
  end
  math.randomseed(id * 7919 + now_us() % 1000003)
  out = assert(io.open(string.format("%s/thread-%03d.tsv", args[2], id), "w"))
end

request = function()
  local i = math.random(#paths)
  kind, path = kinds[i], paths[i]
  started = now_us()
  return wrk.format("GET", path)
end

response = function(status, headers, body)
  out:write(string.format("%d\t%s\t%d\t%d\t%s\n", started, kind, status, now_us() - started, path))
  written = written + 1
  if written % 200 == 0 then
    out:flush()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d\n", summary.requests))
  io.write(string.format("BENCH duration_us=%d\n", summary.duration))
  io.write(string.format("BENCH errors_connect=%d\n", e.connect))
  io.write(string.format("BENCH errors_read=%d\n", e.read))
  io.write(string.format("BENCH errors_write=%d\n", e.write))
  io.write(string.format("BENCH errors_status=%d\n", e.status))
  io.write(string.format("BENCH errors_timeout=%d\n", e.timeout))
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("BENCH p%d=%d\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH max=%d\n", latency.max))
end
