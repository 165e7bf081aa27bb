/**
 * Every key of one concert carries the hash tag `{concertId}` so that a
 * script touching them all runs on a single Redis Cluster slot.
 */
export interface ConcertKeys {
  /** ZSET token → arrival sequence number (FIFO order). */
  waiting: string;
  /**
   * ZSET token → epoch ms by which a WAITING token must be polled again (its last issue or
   * lookup + the waiting TTL), or it loses its place. Only WAITING tokens are in it.
   */
  pollDeadlines: string;
  /** ZSET token → expiry epoch ms. */
  active: string;
  /** HASH userId → token of the user's live token. */
  users: string;
  /** Counter handing out arrival sequence numbers; deleted when the concert drains. */
  seq: string;
  /** ZSET token → admission epoch ms, trimmed to the last minute; feeds the wait estimate. */
  admissions: string;
  /** ZSET token → arrival sequence number of the tokens issued before the on-sale time, until the draw. */
  prequeue: string;
  /** HASH of the concert's sale: opensAt (epoch ms) when it has an on-sale time, drawn = 1 once the draw is applied. */
  sale: string;
  /** Prefix of the per-token HASH keys (userId, state, activeUntil). */
  tokenKeyPrefix: string;
  /**
   * Counter of tokens ever admitted (walk-ins and from the line). Never deleted: one small key per
   * concert. The scripts derive it from `waiting` (same base), so it takes no KEYS slot.
   */
  admitted: string;
}

export function concertKeys(keyPrefix: string, concertId: string): ConcertKeys {
  const base = `${keyPrefix}q:{${concertId}}:`;
  return {
    waiting: `${base}waiting`,
    pollDeadlines: `${base}poll-deadlines`,
    active: `${base}active`,
    users: `${base}users`,
    seq: `${base}seq`,
    admissions: `${base}admissions`,
    prequeue: `${base}prequeue`,
    sale: `${base}sale`,
    tokenKeyPrefix: `${base}t:`,
    admitted: `${base}admitted`,
  };
}

export function tokenKey(keys: ConcertKeys, token: string): string {
  return `${keys.tokenKeyPrefix}${token}`;
}

/** SET of concert ids with waiting or active tokens: what the admission loop sweeps. */
export function concertRegistryKey(keyPrefix: string): string {
  return `${keyPrefix}q:concerts`;
}
