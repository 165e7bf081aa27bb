/**
 * Lua scripts of the waiting queue. Each operation is one script so that it is
 * atomic per concert, and each one runs admission for the concert first.
 *
 * Shared calling convention (see queue-commands.ts):
 *   KEYS[1] waiting ZSET   KEYS[2] active ZSET   KEYS[3] users HASH
 *   KEYS[4] seq counter    KEYS[5] admissions ZSET   KEYS[6] poll-deadlines ZSET
 *   KEYS[7] pre-queue ZSET KEYS[8] sale HASH
 *   KEYS[9] the token HASH the operation is about (issue / lookup / expire only)
 *   ARGV[1] now (epoch ms)  ARGV[2] maxActive  ARGV[3] active TTL ms
 *   ARGV[4] retention ms    ARGV[5] token key prefix   ARGV[6] waiting TTL ms
 *
 * Token keys of other tokens (those admitted or expired by the sweep) cannot be
 * known by the caller, so they are derived from ARGV[5]. They carry the same
 * `{concertId}` hash tag as KEYS[1..6], hence live in the same cluster slot.
 *
 * WAITING tokens must be polled: every issue (same user and concert) and every lookup of a
 * WAITING token moves its deadline to now + waiting TTL. A token past its deadline loses its
 * place: it leaves the line (the people behind move up) and is ended exactly like an ACTIVE token
 * past its TTL — state USED, kept for the retention period, the user's slot in the users HASH
 * freed — so it answers 401 TOKEN_INVALID from then on and the user's next issue is a new token at
 * the end of the line. Deadlines are enforced by every script (the sweep, issue, lookup, expire),
 * and admission and lookups check the deadline of the token in hand, so a bounded sweep never
 * lets a stale token be admitted or described as live.
 *
 * The pre-queue (api.md, "On-sale time and the pre-queue"). A concert with an on-sale time keeps
 * it in its sale HASH (`opensAt`, set by issue from the catalogue; `drawn` once the draw is
 * applied). Before opensAt a new token goes to the pre-queue ZSET, not the line: WAITING, no place
 * (position -1 in the reply), no poll deadline (the idle clock starts at the draw, so arriving
 * early costs nothing), and admission stays closed. From opensAt until the draw is applied every
 * script answers { 'draw-due' } and changes nothing: the caller records the draw (PostgreSQL),
 * computes the order from its seed and runs APPLY_DRAW_SCRIPT, then asks again. So the pre-queue is
 * frozen from opensAt to the draw (every instance that draws reads the same arrivals), nobody who
 * comes after opensAt can get in line ahead of it, and nobody is admitted before it.
 *
 * Description reply (describe):
 *   { 'invalid' }
 *   { 'used', token, userId }
 *   { 'live', token, userId, state, activeUntilMs | '', position (-1 in the pre-queue),
 *     admissionsLastMinute, opensAtMs | '' (in the pre-queue only) }
 *   { 'draw-due' } instead of any reply, see above.
 */

const PRELUDE = `
local waitingKey = KEYS[1]
local activeKey = KEYS[2]
local usersKey = KEYS[3]
local seqKey = KEYS[4]
local admissionsKey = KEYS[5]
local deadlinesKey = KEYS[6]
local prequeueKey = KEYS[7]
local saleKey = KEYS[8]
-- Tokens ever admitted (metrics: ovation_queue_admitted_total). Derived like the token keys:
-- KEYS[1] is '<base>waiting', this is '<base>admitted' (keys.ts), in the same hash-tag slot.
local admittedKey = string.sub(waitingKey, 1, -8) .. 'admitted'
local now = tonumber(ARGV[1])
local maxActive = tonumber(ARGV[2])
local activeTtlMs = tonumber(ARGV[3])
local retentionMs = tonumber(ARGV[4])
local tokenKeyPrefix = ARGV[5]
local waitingTtlMs = tonumber(ARGV[6])
local ADMISSION_RATE_WINDOW_MS = 60000
-- Bounds one script's work when a crowd stops polling at once (Redis runs nothing else while a
-- script runs); the rest goes in the next calls (the sweep runs every 250 ms).
local MAX_WAITING_EXPIRED_PER_CALL = 1000

-- The sale's state: no opensAt means no on-sale time (an ordinary line).
local saleFields = redis.call('HMGET', saleKey, 'opensAt', 'drawn')
local opensAt = tonumber(saleFields[1])
local drawn = saleFields[2] == '1'
local beforeDraw = opensAt ~= nil and not drawn
local drawDue = beforeDraw and opensAt <= now

local function inPrequeue(token)
  return beforeDraw and redis.call('ZSCORE', prequeueKey, token) ~= false
end

-- Ends a token: USED state kept for the retention period so a payment replay
-- can still resolve its user; the user may then get a new token.
local function retire(token)
  local tokenKey = tokenKeyPrefix .. token
  local userId = redis.call('HGET', tokenKey, 'userId')
  if not userId then return end
  if redis.call('HGET', usersKey, userId) == token then
    redis.call('HDEL', usersKey, userId)
  end
  redis.call('HSET', tokenKey, 'state', 'USED')
  redis.call('PEXPIRE', tokenKey, retentionMs)
end

local function isPastPollDeadline(token)
  local deadline = redis.call('ZSCORE', deadlinesKey, token)
  return deadline and tonumber(deadline) <= now
end

-- A WAITING token that was not polled in time leaves the line and is ended.
local function expireWaiting(token)
  redis.call('ZREM', waitingKey, token)
  redis.call('ZREM', deadlinesKey, token)
  if redis.call('HGET', tokenKeyPrefix .. token, 'state') == 'WAITING' then retire(token) end
end

local function expireUnpolledWaiting()
  local stale = redis.call('ZRANGEBYSCORE', deadlinesKey, '-inf', now, 'LIMIT', 0, MAX_WAITING_EXPIRED_PER_CALL)
  for _, token in ipairs(stale) do
    expireWaiting(token)
  end
end

-- The holder of a WAITING token is still there: its deadline moves on. The token HASH expires
-- by itself well after the deadline, should no script ever run for this concert again.
local function touchWaiting(token)
  redis.call('ZADD', deadlinesKey, now + waitingTtlMs, token)
  redis.call('PEXPIRE', tokenKeyPrefix .. token, waitingTtlMs + retentionMs)
end

-- A poll of a token (issue again, or lookup). For a WAITING token: past its deadline it is
-- expired; otherwise its deadline moves on, and if its entry in the waiting ZSET was lost (a
-- partial state: the HASH says WAITING, the ZSET has no entry) it is put back at the END of the
-- line: it keeps its token, never jumps anyone, and the request never fails. Returns true when
-- it re-queued the token (admission must run again).
local function pollWaiting(token)
  if redis.call('HGET', tokenKeyPrefix .. token, 'state') ~= 'WAITING' then return false end
  -- In the pre-queue the idle clock has not started: nothing to move, nothing to heal.
  if inPrequeue(token) then return false end
  if isPastPollDeadline(token) then
    expireWaiting(token)
    return false
  end
  local requeued = false
  if not redis.call('ZSCORE', waitingKey, token) then
    redis.call('ZADD', waitingKey, redis.call('INCR', seqKey), token)
    requeued = true
  end
  touchWaiting(token)
  return requeued
end

-- recordAdmissions is false only where a just-issued token walks straight in:
-- the wait estimate needs the rate at which *waiting* tokens get admitted.
local function admit(recordAdmissions)
  expireUnpolledWaiting()

  local expired = redis.call('ZRANGEBYSCORE', activeKey, '-inf', now)
  for _, token in ipairs(expired) do
    retire(token)
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', activeKey, '-inf', now)
  end

  local admitted = 0
  -- Nobody is admitted before the draw, not even into a concert with room.
  local room = 0
  if not beforeDraw then room = maxActive - redis.call('ZCARD', activeKey) end
  while room > 0 do
    local head = redis.call('ZPOPMIN', waitingKey)
    local token = head[1]
    if not token then break end
    local tokenKey = tokenKeyPrefix .. token
    if isPastPollDeadline(token) then
      -- Not polled in time (left for a later call by the bounded expiry above): never admitted.
      expireWaiting(token)
    elseif redis.call('HGET', tokenKey, 'state') == 'WAITING' then
      local activeUntil = now + activeTtlMs
      redis.call('ZREM', deadlinesKey, token)
      redis.call('ZADD', activeKey, activeUntil, token)
      redis.call('HSET', tokenKey, 'state', 'ACTIVE', 'activeUntil', activeUntil)
      redis.call('PEXPIRE', tokenKey, activeTtlMs + retentionMs)
      if recordAdmissions then
        redis.call('ZADD', admissionsKey, now, token)
        redis.call('PEXPIRE', admissionsKey, ADMISSION_RATE_WINDOW_MS)
      end
      admitted = admitted + 1
      room = room - 1
    else
      -- A waiting token whose key vanished (e.g. evicted) or that is no longer WAITING is dropped.
      redis.call('ZREM', deadlinesKey, token)
    end
  end
  redis.call('ZREMRANGEBYSCORE', admissionsKey, '-inf', '(' .. (now - ADMISSION_RATE_WINDOW_MS))
  if admitted > 0 then redis.call('INCRBY', admittedKey, admitted) end
  return admitted
end

local function describe(token)
  local fields = redis.call('HMGET', tokenKeyPrefix .. token, 'userId', 'state', 'activeUntil')
  local userId, state, activeUntil = fields[1], fields[2], fields[3]
  if not userId then return { 'invalid' } end
  if state == 'USED' then return { 'used', token, userId } end
  local position = 0
  local shownOpensAt = ''
  if state == 'WAITING' and inPrequeue(token) then
    position = -1
    activeUntil = ''
    shownOpensAt = opensAt
  elseif state == 'WAITING' then
    -- pollWaiting ran first, so the token has its entry; this is only a last line of defence.
    local rank = redis.call('ZRANK', waitingKey, token)
    if not rank then return { 'invalid' } end
    position = rank + 1
    activeUntil = ''
  elseif state ~= 'ACTIVE' then
    return { 'invalid' }
  end
  return { 'live', token, userId, state, activeUntil, position, redis.call('ZCARD', admissionsKey), shownOpensAt }
end

local function isLive(token)
  local state = redis.call('HGET', tokenKeyPrefix .. token, 'state')
  return state == 'WAITING' or state == 'ACTIVE'
end
`;

/**
 * KEYS[9] key of the candidate new token; ARGV[7] userId, ARGV[8] candidate token, ARGV[9] the
 * concert's on-sale time (epoch ms) or ''. Reply: { created (0|1), ...description }.
 */
export const ISSUE_SCRIPT = `${PRELUDE}
local userId = ARGV[7]
local candidateToken = ARGV[8]
local givenOpensAt = tonumber(ARGV[9])
if givenOpensAt and opensAt == nil then
  -- The first issue for the concert brings its on-sale time. The HASH outlives the line by the
  -- retention period; should it expire, the next issue sets it again and the draw, recorded in
  -- PostgreSQL, is applied again to an empty pre-queue (a no-op).
  redis.call('HSET', saleKey, 'opensAt', givenOpensAt)
  redis.call('PEXPIREAT', saleKey, math.max(givenOpensAt, now) + retentionMs)
  opensAt = givenOpensAt
  beforeDraw = true
  drawDue = opensAt <= now
end
if drawDue then return { 'draw-due' } end
admit(true)

local existing = redis.call('HGET', usersKey, userId)
if existing then
  -- Asking again is a poll: a token past its deadline is ended here and a new one issued below.
  if pollWaiting(existing) then admit(true) end
  if isLive(existing) then
    local description = describe(existing)
    table.insert(description, 1, 0)
    return description
  end
end

redis.call('HSET', KEYS[9], 'userId', userId, 'state', 'WAITING', 'activeUntil', '')
redis.call('HSET', usersKey, userId, candidateToken)
if beforeDraw then
  -- The pre-queue: no deadline until the draw; the HASH lives until a late draw could still come.
  redis.call('ZADD', prequeueKey, redis.call('INCR', seqKey), candidateToken)
  redis.call('PEXPIREAT', KEYS[9], opensAt + waitingTtlMs + retentionMs)
  local description = describe(candidateToken)
  table.insert(description, 1, 1)
  return description
end
redis.call('ZADD', waitingKey, redis.call('INCR', seqKey), candidateToken)
touchWaiting(candidateToken)
-- After the first admission pass either nobody waits or there is no room, so
-- this admits the new token exactly when the concert had room and an empty line.
admit(false)

local description = describe(candidateToken)
table.insert(description, 1, 1)
return description
`;

/** KEYS[9] token key; ARGV[7] token. Reply: { requeued (0|1), ...description }. */
export const LOOKUP_SCRIPT = `${PRELUDE}
local token = ARGV[7]
if drawDue then return { 'draw-due' } end
admit(true)
local requeued = pollWaiting(token)
if requeued then admit(true) end
local description = describe(token)
table.insert(description, 1, requeued and 1 or 0)
return description
`;

/** KEYS[9] token key; ARGV[7] token. Reply: number of tokens admitted, or { 'draw-due' }. */
export const EXPIRE_SCRIPT = `${PRELUDE}
local token = ARGV[7]
if drawDue then return { 'draw-due' } end
local admitted = admit(true)
if isLive(token) then
  redis.call('ZREM', prequeueKey, token)
  redis.call('ZREM', waitingKey, token)
  redis.call('ZREM', deadlinesKey, token)
  redis.call('ZREM', activeKey, token)
  retire(token)
  admitted = admitted + admit(true)
end
return admitted
`;

/** Reply: { admitted, live } where live counts pre-queued + waiting + active tokens left, or { 'draw-due' }. */
export const ADMIT_SCRIPT = `${PRELUDE}
if drawDue then return { 'draw-due' } end
local admitted = admit(true)
local live = redis.call('ZCARD', waitingKey) + redis.call('ZCARD', activeKey) + redis.call('ZCARD', prequeueKey)
-- Deadlines whose waiting entry was lost keep the concert swept until they run out.
if live == 0 then live = redis.call('ZCARD', deadlinesKey) end
-- With nobody waiting, numbering can restart without breaking FIFO order.
if live == 0 then redis.call('DEL', seqKey) end
return { admitted, live }
`;

/**
 * What a drawer needs, read at once: ARGV none beyond the shared ones.
 * Reply: { opensAtMs | '', drawn (0|1), ...pre-queued tokens }.
 */
export const PREQUEUE_SCRIPT = `${PRELUDE}
local reply = { opensAt or '', drawn and 1 or 0 }
for _, token in ipairs(redis.call('ZRANGE', prequeueKey, 0, -1)) do table.insert(reply, token) end
return reply
`;

/**
 * Applies a recorded draw, once: ARGV[7..] the pre-queued tokens in the drawn order. Atomic, so of
 * several instances applying the same draw at once the first wins whole and the rest change
 * nothing. The drawn tokens take the scores -n..-1, ahead of every sequence number (≥ 1) the line
 * hands out, and their idle clocks start now. A token in the pre-queue that the order does not
 * name (it came in from an instance whose clock was behind while the draw was read) joins the end.
 * Reply: the number of tokens put in line.
 */
export const APPLY_DRAW_SCRIPT = `${PRELUDE}
if not beforeDraw then return 0 end
local placed = 0
local total = #ARGV - 6
for index = 7, #ARGV do
  local token = ARGV[index]
  if redis.call('ZREM', prequeueKey, token) == 1 and redis.call('HGET', tokenKeyPrefix .. token, 'state') == 'WAITING' then
    redis.call('ZADD', waitingKey, index - 7 - total, token)
    touchWaiting(token)
    placed = placed + 1
  end
end
for _, token in ipairs(redis.call('ZRANGE', prequeueKey, 0, -1)) do
  if redis.call('HGET', tokenKeyPrefix .. token, 'state') == 'WAITING' then
    redis.call('ZADD', waitingKey, redis.call('INCR', seqKey), token)
    touchWaiting(token)
    placed = placed + 1
  end
end
redis.call('DEL', prequeueKey)
redis.call('HSET', saleKey, 'drawn', 1)
-- Admission is left to the operation that asked again after the draw (it admits first, as always).
return placed
`;
