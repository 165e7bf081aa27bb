/**
 * Lua scripts of the waiting queue. Each operation is one script so that it is
 * atomic per concert, and each one runs admission for the concert first.
 *
 * Shared calling convention (see queue-commands.ts):
 *   KEYS[1] waiting ZSET   KEYS[2] active ZSET   KEYS[3] users HASH
 *   KEYS[4] seq counter    KEYS[5] admissions ZSET
 *   KEYS[6] the token HASH the operation is about (issue / lookup / expire only)
 *   ARGV[1] now (epoch ms)  ARGV[2] maxActive  ARGV[3] active TTL ms
 *   ARGV[4] retention ms    ARGV[5] token key prefix
 *
 * Token keys of other tokens (those admitted or expired by the sweep) cannot be
 * known by the caller, so they are derived from ARGV[5]. They carry the same
 * `{concertId}` hash tag as KEYS[1..5], hence live in the same cluster slot.
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
local now = tonumber(ARGV[1])
local maxActive = tonumber(ARGV[2])
local activeTtlMs = tonumber(ARGV[3])
local retentionMs = tonumber(ARGV[4])
local tokenKeyPrefix = ARGV[5]
local ADMISSION_RATE_WINDOW_MS = 60000

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

-- recordAdmissions is false only where a just-issued token walks straight in:
-- the wait estimate needs the rate at which *waiting* tokens get admitted.
local function admit(recordAdmissions)
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
    -- A waiting token whose key vanished (e.g. evicted) is simply dropped.
    if redis.call('EXISTS', tokenKey) == 1 then
      local activeUntil = now + activeTtlMs
      redis.call('ZADD', activeKey, activeUntil, token)
      redis.call('HSET', tokenKey, 'state', 'ACTIVE', 'activeUntil', activeUntil)
      redis.call('PEXPIRE', tokenKey, activeTtlMs + retentionMs)
      if recordAdmissions then
        redis.call('ZADD', admissionsKey, now, token)
        redis.call('PEXPIRE', admissionsKey, ADMISSION_RATE_WINDOW_MS)
      end
      admitted = admitted + 1
      room = room - 1
    end
  end
  redis.call('ZREMRANGEBYSCORE', admissionsKey, '-inf', '(' .. (now - ADMISSION_RATE_WINDOW_MS))
  return admitted
end

local function describe(token)
  local fields = redis.call('HMGET', tokenKeyPrefix .. token, 'userId', 'state', 'activeUntil')
  local userId, state, activeUntil = fields[1], fields[2], fields[3]
  if not userId then return { 'invalid' } end
  if state == 'USED' then return { 'used', token, userId } end
  local position = 0
  if state == 'WAITING' then
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
 * KEYS[6] key of the candidate new token; ARGV[6] userId, ARGV[7] candidate token.
 * Reply: { created (0|1), ...description }.
 */
export const ISSUE_SCRIPT = `${PRELUDE}
local userId = ARGV[6]
local candidateToken = ARGV[7]
admit(true)

local existing = redis.call('HGET', usersKey, userId)
if existing and isLive(existing) then
  local description = describe(existing)
  table.insert(description, 1, 0)
  return description
end

redis.call('HSET', KEYS[6], 'userId', userId, 'state', 'WAITING', 'activeUntil', '')
redis.call('ZADD', waitingKey, redis.call('INCR', seqKey), candidateToken)
redis.call('HSET', usersKey, userId, candidateToken)
-- After the first admission pass either nobody waits or there is no room, so
-- this admits the new token exactly when the concert had room and an empty line.
admit(false)

local description = describe(candidateToken)
table.insert(description, 1, 1)
return description
`;

/** KEYS[6] token key; ARGV[6] token. Reply: description. */
export const LOOKUP_SCRIPT = `${PRELUDE}
admit(true)
return describe(ARGV[6])
`;

/** KEYS[6] token key; ARGV[6] token. Reply: number of tokens admitted. */
export const EXPIRE_SCRIPT = `${PRELUDE}
local token = ARGV[6]
local admitted = admit(true)
if isLive(token) then
  redis.call('ZREM', waitingKey, token)
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
-- With nobody waiting, numbering can restart without breaking FIFO order.
if live == 0 then redis.call('DEL', seqKey) end
return { admitted, live }
`;
