/**
 * Load for fault tests: virtual users that hold a seat and cancel it again, over and over, each
 * request with its own Idempotency-Key, every answer recorded (status, code, time). After the
 * fault, `checkAnswers` proves the failure semantics from the database: a 201/200 was applied,
 * a 503 SERVICE_UNAVAILABLE was not, and an OUTCOME_UNKNOWN replayed with its key tells which.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export interface Answer {
  kind: 'hold' | 'cancel';
  key: string;
  token: string;
  seatNo: number;
  reservationId?: string;
  status: number;
  code?: string;
  ms: number;
  startedAt: number;
}

export interface Buyer {
  userId: string;
  token: string;
}

/** No request may take longer than this (the bound the README documents is well below it). */
export const CLIENT_TIMEOUT_MS = 40_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by the tests
export async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), ms: performance.now() - started };
}

/**
 * Replays every OUTCOME_UNKNOWN hold that the database says was applied, with its key and body:
 * the answer must be that very reservation (201). Returns how many were replayed.
 */
export async function replayAppliedUnknownHolds(url: string, db: Pool, scheduleId: string, unknown: Answer[]): Promise<number> {
  let replayed = 0;
  for (const answer of unknown.filter((a) => a.kind === 'hold')) {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM reservations WHERE idempotency_key = $1', [answer.key]);
    if (!rows[0]) continue; // not applied: a replay would be a fresh attempt
    const replay = await call(`${url}/v1/reservations`, 'POST', { scheduleId, seatNos: [answer.seatNo] }, {
      'queue-token': answer.token,
      'idempotency-key': answer.key,
    });
    if (replay.status !== 201 || replay.body.reservationId !== rows[0].id) {
      throw new Error(`replay of ${answer.key} answered ${replay.status} ${JSON.stringify(replay.body)}, expected ${rows[0].id}`);
    }
    replayed += 1;
  }
  return replayed;
}

export interface HoldLoad {
  answers: Answer[];
  stop(): Promise<void>;
}

/** Each buyer cycles hold → cancel on seats of its own (buyer i uses seats i*4+1 .. i*4+4). */
export function startHoldLoad(url: string, scheduleId: string, buyers: Buyer[]): HoldLoad {
  const answers: Answer[] = [];
  let stopping = false;
  const record = async (
    request: Pick<Answer, 'kind' | 'key' | 'token' | 'seatNo' | 'reservationId'>,
    send: () => ReturnType<typeof call>,
  ) => {
    const startedAt = Date.now();
    try {
      const response = await send();
      const reservationId = request.reservationId ?? response.body?.reservationId;
      answers.push({ ...request, reservationId, status: response.status, code: response.body?.code, ms: response.ms, startedAt });
      return response;
    } catch (error) {
      answers.push({ ...request, status: 0, code: (error as Error).name, ms: Date.now() - startedAt, startedAt });
      return undefined;
    }
  };
  const runs = buyers.map(async (buyer, index) => {
    let round = 0;
    while (!stopping) {
      const seatNo = index * 4 + 1 + (round++ % 4);
      const holdKey = randomUUID();
      const held = await record({ kind: 'hold', key: holdKey, token: buyer.token, seatNo }, () =>
        call(`${url}/v1/reservations`, 'POST', { scheduleId, seatNos: [seatNo] }, { 'queue-token': buyer.token, 'idempotency-key': holdKey }),
      );
      if (held?.status !== 201) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const reservationId = held.body.reservationId as string;
      const cancelKey = randomUUID();
      await record({ kind: 'cancel', key: cancelKey, token: buyer.token, seatNo, reservationId }, () =>
        call(`${url}/v1/reservations/${reservationId}`, 'DELETE', undefined, { 'queue-token': buyer.token, 'idempotency-key': cancelKey }),
      );
    }
  });
  return {
    answers,
    async stop() {
      stopping = true;
      await Promise.all(runs);
    },
  };
}

export interface AnswerCheck {
  /** Answers that are neither success, a business refusal nor an honest 503. */
  dishonest: Answer[];
  /** 503 SERVICE_UNAVAILABLE answers whose change is in the database anyway. */
  appliedAfterNo: Answer[];
  /** 2xx answers whose change is not in the database. */
  lostAfterYes: Answer[];
  unknown: Answer[];
  counts: Record<string, number>;
}

/** Reads the truth from the database: every answer must agree with it. */
export async function checkAnswers(db: Pool, answers: Answer[]): Promise<AnswerCheck> {
  const holds = await db.query<{ idempotency_key: string }>('SELECT idempotency_key FROM reservations WHERE idempotency_key IS NOT NULL');
  const cancels = await db.query<{ cancel_idempotency_key: string }>(
    'SELECT cancel_idempotency_key FROM reservations WHERE cancel_idempotency_key IS NOT NULL',
  );
  const applied = new Set([...holds.rows.map((r) => r.idempotency_key), ...cancels.rows.map((r) => r.cancel_idempotency_key)]);
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const label = `${answer.kind} ${answer.status}${answer.code ? ` ${answer.code}` : ''}`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  const ok = (a: Answer) => (a.kind === 'hold' ? a.status === 201 : a.status === 200);
  const honest503 = (a: Answer) => a.status === 503 && (a.code === 'SERVICE_UNAVAILABLE' || a.code === 'OUTCOME_UNKNOWN');
  return {
    dishonest: answers.filter((a) => !ok(a) && !honest503(a) && !(a.status >= 400 && a.status < 500)),
    appliedAfterNo: answers.filter((a) => a.status === 503 && a.code === 'SERVICE_UNAVAILABLE' && applied.has(a.key)),
    lostAfterYes: answers.filter((a) => ok(a) && !applied.has(a.key)),
    unknown: answers.filter((a) => a.code === 'OUTCOME_UNKNOWN'),
    counts,
  };
}

/** No seat is in two live (HELD, unexpired, or CONFIRMED) reservations. */
export async function doubleBookedSeats(db: Pool): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM (
      SELECT schedule_id, seat FROM reservations, unnest(seat_nos) AS seat
      WHERE status = 'CONFIRMED' OR (status = 'HELD' AND expires_at > now())
      GROUP BY schedule_id, seat HAVING count(*) > 1) doubles`);
  return rows[0]!.n;
}
