/**
 * Lua scripts of the waiting queue. Each operation is one script so that it is
 * atomic per concert, and each one runs admission for the concert first.
 *
 * Shared calling convention (see queue-commands.ts):
 *   KEYS[1] waiting ZSET   KEYS[2] active ZSET   KEYS[3] users HASH
 *   KEYS[4] seq counter    KEYS[5] admissions ZSET   KEYS[6] poll-deadlines ZSET
 *   KEYS[7] the token HASH the operation is about (issue / lookup / expire only)
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
 * Description reply (describe):
 *   { 'invalid' }
 *   { 'used', token, userId }
 *   { 'live', token, userId, state, activeUntilMs | '', position, admissionsLastMinute }
 */

const PRELUDE = `
local waitingKey = KEYS[1]
local activeKey = KEYS[2]
local usersKey = KEYS[3]
local seqKey = KEYS[4]
local admissionsKey = KEYS[5]
local deadlinesKey = KEYS[6]
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
  local room = maxActive - redis.call('ZCARD', activeKey)
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
  if state == 'WAITING' then
    -- pollWaiting ran first, so the token has its entry; this is only a last line of defence.
    local rank = redis.call('ZRANK', waitingKey, token)
    if not rank then return { 'invalid' } end
    position = rank + 1
    activeUntil = ''
  elseif state ~= 'ACTIVE' then
    return { 'invalid' }
  end
  return { 'live', token, userId, state, activeUntil, position, redis.call('ZCARD', admissionsKey) }
end

local function isLive(token)
  local state = redis.call('HGET', tokenKeyPrefix .. token, 'state')
  return state == 'WAITING' or state == 'ACTIVE'
end
`;

/**
 * KEYS[7] key of the candidate new token; ARGV[7] userId, ARGV[8] candidate token.
 * Reply: { created (0|1), ...description }.
 */
export const ISSUE_SCRIPT = `${PRELUDE}
local userId = ARGV[7]
local candidateToken = ARGV[8]
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

redis.call('HSET', KEYS[7], 'userId', userId, 'state', 'WAITING', 'activeUntil', '')
redis.call('ZADD', waitingKey, redis.call('INCR', seqKey), candidateToken)
touchWaiting(candidateToken)
redis.call('HSET', usersKey, userId, candidateToken)
-- After the first admission pass either nobody waits or there is no room, so
-- this admits the new token exactly when the concert had room and an empty line.
admit(false)

local description = describe(candidateToken)
table.insert(description, 1, 1)
return description
`;

/** KEYS[7] token key; ARGV[7] token. Reply: { requeued (0|1), ...description }. */
export const LOOKUP_SCRIPT = `${PRELUDE}
local token = ARGV[7]
admit(true)
local requeued = pollWaiting(token)
if requeued then admit(true) end
local description = describe(token)
table.insert(description, 1, requeued and 1 or 0)
return description
`;

/** KEYS[7] token key; ARGV[7] token. Reply: number of tokens admitted. */
export const EXPIRE_SCRIPT = `${PRELUDE}
local token = ARGV[7]
local admitted = admit(true)
if isLive(token) then
  redis.call('ZREM', waitingKey, token)
  redis.call('ZREM', deadlinesKey, token)
  redis.call('ZREM', activeKey, token)
  retire(token)
  admitted = admitted + admit(true)
end
return admitted
`;

/** Reply: { admitted, live } where live counts waiting + active tokens left. */
export const ADMIT_SCRIPT = `${PRELUDE}
local admitted = admit(true)
local live = redis.call('ZCARD', waitingKey) + redis.call('ZCARD', activeKey)
-- Deadlines whose waiting entry was lost keep the concert swept until they run out.
if live == 0 then live = redis.call('ZCARD', deadlinesKey) end
-- With nobody waiting, numbering can restart without breaking FIFO order.
if live == 0 then redis.call('DEL', seqKey) end
return { admitted, live }
`;
