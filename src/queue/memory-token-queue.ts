/**
 * Embedded mode's waiting line (design.md, "Embedded mode"): the TokenQueue port held in process
 * memory, with the semantics of the Redis line (token-queue.ts) and the same test suite
 * (test/integration/token-queue.int.spec.ts runs over both). One instance only: the line lives
 * in this process and a restart empties it, as a restart of an empty Redis would.
 *
 * Memory is bounded: a concert's line holds its live tokens (and, for a minute, the admissions
 * its wait estimate counts) and is dropped when it has neither; an ended token is kept only for
 * the retention period (a day by default, so that a payment replay can find its user) and purged
 * by every operation after that. Expiry is found in O(expired) (deadline-ordered Maps), positions
 * in O(1) between changes of the line and O(waiting) once after one.
 *
 * Where it differs from Redis, none of it visible through the port: the Redis line also expires
 * keys on Redis's own clock as a safety net (here everything runs on `now`); it bounds one
 * script's expiries to 1,000 (here all due tokens leave at once); it heals a WAITING token that
 * lost its ZSET entry (here that partial state cannot occur).
 */
import { createAdmissionLoop } from './admission-loop';
import { tokenInfo } from './token-info';
import { ConcertLine, type LineSnapshot, type LiveDescription, type LiveToken } from './memory/concert-line';
import { DeadlineMap } from './memory/deadline-map';
import { resolveQueueSettings, validateIssueArguments } from './queue-settings';
import { createPreQueueDrawer } from './pre-queue-drawer';
import { generateToken, normalizeConcertId, parseToken } from './token-format';
import type { TokenInfo, TokenQueue, TokenQueueSettings } from './types';

export interface MemoryQueueSnapshot {
  /** Lines with anything in them, by concert id. */
  concerts: Record<string, LineSnapshot>;
  /** Ended tokens still resolving to their user, oldest first. */
  retired: { token: string; userId: string; concertId: string; retainedUntil: number }[];
}

export interface MemoryTokenQueue extends TokenQueue {
  /** What the line holds right now, read without admitting, polling or purging anything (tests, diagnostics). */
  inspect(): MemoryQueueSnapshot;
}

export function createMemoryTokenQueue(options: TokenQueueSettings): MemoryTokenQueue {
  const settings = resolveQueueSettings(options);
  const { maxActive, activeTtlSeconds, activeTtlMs, waitingTtlMs, retentionMs } = settings;
  const clock = settings.now;
  const lines = new Map<string, ConcertLine>();
  /** Tokens ever admitted per concert; outlives the concert's line, as the Redis counter does. */
  const admittedTotals = new Map<string, number>();
  const countAdmitted = (concertId: string, admitted: number): void => {
    if (admitted > 0) admittedTotals.set(concertId, (admittedTotals.get(concertId) ?? 0) + admitted);
  };
  const retired = new DeadlineMap<{ userId: string; concertId: string }>();

  const lineFor = (concertId: string): ConcertLine => {
    let line = lines.get(concertId);
    if (!line) {
      line = new ConcertLine({
        maxActive,
        activeTtlMs,
        waitingTtlMs,
        retire: (token: LiveToken, now: number) => retired.set(token.token, { userId: token.userId, concertId }, now + retentionMs),
        admitted: (count: number) => countAdmitted(concertId, count),
      });
      lines.set(concertId, line);
    }
    return line;
  };
  const dropIfIdle = (concertId: string, line: ConcertLine): void => {
    if (line.idle) lines.delete(concertId);
  };
  /** Every operation starts here: the clock's reading, with ended tokens past retention purged. */
  const tick = (): number => {
    const now = clock();
    retired.takeDue(now);
    return now;
  };

  const toInfo = (concertId: string, description: LiveDescription): TokenInfo =>
    tokenInfo(concertId, { ...description, activeUntilMs: description.activeUntil }, { maxActive, activeTtlSeconds, now: clock() });

  const drawer = createPreQueueDrawer(settings.draws);
  /**
   * The concert's line and the instant to run an operation at, its pre-queue drawn first if the
   * draw is due (pre-queue-drawer.ts). There is no await between the check and the operation, so
   * nobody gets in line or is admitted while a draw is being recorded: whoever comes meanwhile
   * waits for it. `create` is for issue (the other operations have nothing to do on no line).
   */
  const ready = async (concertId: string, opensAt: number | null, create: boolean): Promise<{ line: ConcertLine; now: number } | undefined> => {
    for (;;) {
      const line = create ? lineFor(concertId) : lines.get(concertId);
      if (!line) return undefined;
      line.setOpensAt(opensAt);
      const now = tick();
      if (!line.drawDue(now)) return { line, now };
      await drawer.draw(concertId, line.opensAt!, line.arrivals(), async (order) => line.applyDraw(order, tick()));
    }
  };

  const admitAll = async (): Promise<number> => {
    let admitted = 0;
    let failure: { error: unknown } | undefined;
    for (const concertId of [...lines.keys()]) {
      // A concert whose draw cannot be recorded now must not hold up the others' admissions.
      const found = await ready(concertId, null, false).catch((error: unknown) => {
        failure ??= { error };
        return undefined;
      });
      if (!found) continue;
      admitted += found.line.admit(found.now, true);
      dropIfIdle(concertId, found.line);
    }
    if (failure) throw failure.error;
    return admitted;
  };

  const loop = createAdmissionLoop(admitAll, settings.admissionIntervalMs, settings.onAdmissionError);

  return {
    async issue(userId, concertId, opensAt = null) {
      validateIssueArguments(userId, concertId, opensAt, settings.draws);
      const id = normalizeConcertId(concertId);
      const { line, now } = (await ready(id, opensAt, true))!;
      const { created, token } = line.issue(userId, () => generateToken(id), now);
      const description = line.describe(token);
      if (!description) throw new Error('token queue: issued token is not live');
      return { created, info: toInfo(id, description) };
    },

    async lookup(token) {
      const parsed = parseToken(token);
      if (!parsed) return { kind: 'invalid' };
      const found = await ready(parsed.concertId, null, false);
      const now = found?.now ?? tick();
      if (found) {
        const { line } = found;
        line.admit(now, true);
        line.poll(token, now);
        const description = line.describe(token);
        dropIfIdle(parsed.concertId, line);
        if (description) return { kind: 'live', info: toInfo(parsed.concertId, description) };
      }
      const ended = retired.get(token);
      if (ended && !retired.isDue(token, now)) return { kind: 'used', userId: ended.userId, concertId: parsed.concertId };
      return { kind: 'invalid' };
    },

    async expire(token) {
      const parsed = parseToken(token);
      if (!parsed) return;
      const found = await ready(parsed.concertId, null, false);
      if (!found) return;
      found.line.expire(token, found.now);
      dropIfIdle(parsed.concertId, found.line);
    },

    admitAll,

    async stats() {
      const now = clock();
      return [...lines].map(([concertId, line]) => ({
        concertId,
        ...line.counts(now),
        admittedTotal: admittedTotals.get(concertId) ?? 0,
      }));
    },

    start: () => loop.start(),
    stop: () => loop.stop(),

    inspect() {
      return {
        concerts: Object.fromEntries([...lines].map(([concertId, line]) => [concertId, line.snapshot()])),
        retired: [...retired].map(([token, { userId, concertId }, retainedUntil]) => ({ token, userId, concertId, retainedUntil })),
      };
    },
  };
}
