-- GCRA (generic cell rate algorithm) for one key, atomic because Redis runs a script alone.
-- KEYS[1]: the limited key. ARGV[1]: emission interval in ms (one request's worth of time).
-- ARGV[2]: burst, in requests. Answers {1, 0} when allowed, {0, ms until allowed} otherwise.
-- The clock is Redis's own, so instances with skewed clocks still share one schedule.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
if tat - now > tolerance then
  return {0, tat - tolerance - now}
end
tat = tat + interval
redis.call('SET', KEYS[1], tat, 'PX', tat - now)
return {1, 0}
