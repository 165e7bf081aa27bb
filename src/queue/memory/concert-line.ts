/**
 * One concert's waiting line in process memory: the same rules as the Lua scripts of
 * src/queue/lua-scripts.ts (read that file's header for the why), held in Maps.
 *
 *   waiting        token → token, in arrival order (FIFO: a Map keeps insertion order)
 *   pollDeadlines  WAITING token → when it must be polled again, in deadline order
 *   active         ACTIVE token → its activeUntil, in deadline order
 *   users          userId → the user's live token
 *   admissions     when waiting tokens were admitted, over the last minute (the wait estimate)
 *   prequeue       tokens issued before the on-sale time, until the draw (no deadline, no place)
 *
 * Every operation runs admission first, exactly as each script does. Node runs one operation at a
 * time, so each is atomic like a script. Ended tokens leave the line at once and are handed to
 * `retire` (the queue keeps them for the retention period).
 *
 * What the Redis line needs and this one does not: a sequence counter (the Map's order is the
 * arrival order), a concert registry (the queue's Map of lines is one), the re-queueing of a
 * WAITING token that lost its place (a token cannot be in `waiting`'s partner maps and not in
 * `waiting`), and a bound on expiries per call (nothing else waits on a script here; the work is
 * O(expired) either way).
 */
import { ADMISSION_RATE_WINDOW_MS } from '../queue-settings';
import type { TokenStatus } from '../types';
import { DeadlineMap } from './deadline-map';

export interface LiveToken {
  token: string;
  userId: string;
  status: TokenStatus;
  /** Epoch ms; null while WAITING. */
  activeUntil: number | null;
}

/** What `describe` in the Lua scripts answers about a live token. */
export interface LiveDescription extends LiveToken {
  /** 0 when ACTIVE, otherwise the 1-based place in line; null in the pre-queue. */
  position: number | null;
  admissionsLastMinute: number;
  /** The on-sale time, in the pre-queue only. */
  opensAtMs: number | null;
}

export interface LineRules {
  maxActive: number;
  activeTtlMs: number;
  waitingTtlMs: number;
  /** Takes a token that has just ended (paid, past its TTL, or not polled in time). */
  retire(token: LiveToken, now: number): void;
  /** Hears how many tokens each admission pass let in (the Lua scripts' admitted counter). */
  admitted(count: number): void;
}

export interface LineSnapshot {
  /** Epoch ms; null for a concert without an on-sale time. */
  opensAt: number | null;
  drawn: boolean;
  prequeue: { token: string; userId: string }[];
  waiting: { token: string; userId: string; pollDeadline: number }[];
  active: { token: string; userId: string; activeUntil: number }[];
  users: Record<string, string>;
  admissionsLastMinute: number;
}

export class ConcertLine {
  private readonly waiting = new Map<string, LiveToken>();
  /** Lua's pre-queue ZSET and sale HASH (lua-scripts.ts, "The pre-queue"). */
  private readonly prequeue = new Map<string, LiveToken>();
  private saleOpensAt: number | null = null;
  private drawn = false;
  private readonly pollDeadlines = new DeadlineMap<LiveToken>();
  private readonly active = new DeadlineMap<LiveToken>();
  private readonly users = new Map<string, string>();
  private admissions: number[] = [];
  /** token → 1-based position; rebuilt (O(waiting)) on the first read after someone left the line. */
  private positions: Map<string, number> | undefined;

  constructor(private readonly rules: LineRules) {}

  /** Pre-queued + waiting + active tokens. */
  get live(): number {
    return this.prequeue.size + this.waiting.size + this.active.size;
  }

  get opensAt(): number | null {
    return this.saleOpensAt;
  }

  /** The first issue for the concert brings its on-sale time (the catalogue's, which never changes). */
  setOpensAt(opensAt: number | null): void {
    if (opensAt !== null && this.saleOpensAt === null) this.saleOpensAt = opensAt;
  }

  /** The on-sale time has come and the pre-queue is not drawn into line yet. */
  drawDue(now: number): boolean {
    return this.beforeDraw && this.saleOpensAt! <= now;
  }

  /** Who is in the pre-queue, for the draw. */
  arrivals(): string[] {
    return [...this.prequeue.keys()];
  }

  /**
   * Lua APPLY_DRAW_SCRIPT: the pre-queue goes in line in `order`, ahead of anyone else, and every
   * drawn token's idle clock starts now; a pre-queued token the order does not name joins after it.
   */
  applyDraw(order: readonly string[], now: number): void {
    if (!this.beforeDraw) return;
    const line = new Map<string, LiveToken>();
    for (const token of [...order, ...this.prequeue.keys()]) {
      const entry = this.prequeue.get(token);
      if (!entry) continue;
      this.prequeue.delete(token);
      line.set(token, entry);
      this.touch(entry, now);
    }
    for (const [token, entry] of this.waiting) line.set(token, entry);
    this.waiting.clear();
    for (const [token, entry] of line) this.waiting.set(token, entry);
    this.positions = undefined;
    this.drawn = true;
  }

  private get beforeDraw(): boolean {
    return this.saleOpensAt !== null && !this.drawn;
  }

  /** Read-only: ACTIVE counts tokens still within their TTL (those past it are room, not yet reclaimed). */
  counts(now: number): { prequeue: number; waiting: number; active: number } {
    return { prequeue: this.prequeue.size, waiting: this.waiting.size, active: this.active.countLive(now) };
  }

  /** Nothing live and no admission the wait estimate still counts: the line may be dropped. */
  get idle(): boolean {
    return this.live === 0 && this.admissions.length === 0;
  }

  /**
   * Lua `admit`: unpolled WAITING tokens leave, ACTIVE tokens past their TTL end, then the head of
   * the line fills the free room. `recordAdmissions` is false only where a just-issued token walks
   * straight in: the wait estimate needs the rate at which *waiting* tokens get admitted.
   */
  admit(now: number, recordAdmissions: boolean): number {
    for (const [token] of this.pollDeadlines.takeDue(now)) this.expireWaiting(token, now);
    for (const [, entry] of this.active.takeDue(now)) this.end(entry, now);

    let admitted = 0;
    // Nobody is admitted before the draw, not even into a concert with room.
    while (!this.beforeDraw && this.active.size < this.rules.maxActive) {
      const head = this.waiting.values().next();
      if (head.done) break;
      const entry = head.value;
      // Not polled in time (only behind a clock that stepped back): never admitted.
      if (this.pollDeadlines.isDue(entry.token, now)) {
        this.expireWaiting(entry.token, now);
        continue;
      }
      this.leaveLine(entry.token);
      entry.status = 'ACTIVE';
      entry.activeUntil = now + this.rules.activeTtlMs;
      this.active.set(entry.token, entry, entry.activeUntil);
      if (recordAdmissions) this.admissions.push(now);
      admitted += 1;
    }

    const windowStart = now - ADMISSION_RATE_WINDOW_MS;
    let stale = 0;
    while (stale < this.admissions.length && this.admissions[stale]! < windowStart) stale += 1;
    if (stale > 0) this.admissions.splice(0, stale);
    this.rules.admitted(admitted);
    return admitted;
  }

  /** Lua ISSUE_SCRIPT: the user's live token (asking again is a poll), or a new one at the end. */
  issue(userId: string, newToken: () => string, now: number): { created: boolean; token: string } {
    this.admit(now, true);
    const existing = this.users.get(userId);
    if (existing !== undefined) {
      this.poll(existing, now);
      if (this.isLive(existing)) return { created: false, token: existing };
    }
    const entry: LiveToken = { token: newToken(), userId, status: 'WAITING', activeUntil: null };
    this.users.set(userId, entry.token);
    if (this.beforeDraw) {
      // The pre-queue: no deadline (the idle clock starts at the draw), no place, nobody admitted.
      this.prequeue.set(entry.token, entry);
      return { created: true, token: entry.token };
    }
    this.waiting.set(entry.token, entry);
    this.positions?.set(entry.token, this.waiting.size);
    this.touch(entry, now);
    // After the first pass either nobody waits or there is no room, so this admits the new token
    // exactly when the concert had room and an empty line.
    this.admit(now, false);
    return { created: true, token: entry.token };
  }

  /**
   * Lua `pollWaiting`: the holder of a WAITING token is still there. Past its deadline it is ended;
   * otherwise its deadline moves on. ACTIVE tokens keep their own TTL.
   */
  poll(token: string, now: number): void {
    const entry = this.waiting.get(token);
    if (!entry) return;
    if (this.pollDeadlines.isDue(token, now)) this.expireWaiting(token, now);
    else this.touch(entry, now);
  }

  /** Lua EXPIRE_SCRIPT: ends a live token at once (a payment); its room goes to the next in line. */
  expire(token: string, now: number): number {
    let admitted = this.admit(now, true);
    const entry = this.waiting.get(token) ?? this.active.get(token) ?? this.prequeue.get(token);
    if (entry) {
      this.prequeue.delete(token);
      this.leaveLine(token);
      this.active.delete(token);
      this.end(entry, now);
      admitted += this.admit(now, true);
    }
    return admitted;
  }

  /** Lua `describe` for a live token; undefined when the token is not live in this line. */
  describe(token: string): LiveDescription | undefined {
    const admissionsLastMinute = this.admissions.length;
    const preQueued = this.prequeue.get(token);
    if (preQueued) return { ...preQueued, position: null, admissionsLastMinute, opensAtMs: this.saleOpensAt };
    const entry = this.waiting.get(token) ?? this.active.get(token);
    if (!entry) return undefined;
    const position = entry.status === 'WAITING' ? this.positionOf(token) : 0;
    return { ...entry, position, admissionsLastMinute, opensAtMs: null };
  }

  snapshot(): LineSnapshot {
    return {
      opensAt: this.saleOpensAt,
      drawn: this.drawn,
      prequeue: [...this.prequeue.values()].map(({ token, userId }) => ({ token, userId })),
      waiting: [...this.waiting.values()].map(({ token, userId }) => ({ token, userId, pollDeadline: this.pollDeadlines.deadlineOf(token)! })),
      active: [...this.active].map(([token, { userId }, activeUntil]) => ({ token, userId, activeUntil })),
      users: Object.fromEntries(this.users),
      admissionsLastMinute: this.admissions.length,
    };
  }

  private isLive(token: string): boolean {
    return this.prequeue.has(token) || this.waiting.has(token) || this.active.has(token);
  }

  private touch(entry: LiveToken, now: number): void {
    this.pollDeadlines.set(entry.token, entry, now + this.rules.waitingTtlMs);
  }

  /** Lua `expireWaiting`: not polled in time, so the token leaves the line and is ended. */
  private expireWaiting(token: string, now: number): void {
    const entry = this.waiting.get(token);
    this.leaveLine(token);
    if (entry) this.end(entry, now);
  }

  private leaveLine(token: string): void {
    this.pollDeadlines.delete(token);
    if (this.waiting.delete(token)) this.positions = undefined;
  }

  /** Lua `retire`: the user may get a new token; the ended one is kept by the queue. */
  private end(entry: LiveToken, now: number): void {
    if (this.users.get(entry.userId) === entry.token) this.users.delete(entry.userId);
    this.rules.retire(entry, now);
  }

  private positionOf(token: string): number {
    if (!this.positions) {
      this.positions = new Map();
      let position = 0;
      for (const waitingToken of this.waiting.keys()) this.positions.set(waitingToken, ++position);
    }
    return this.positions.get(token)!;
  }
}
