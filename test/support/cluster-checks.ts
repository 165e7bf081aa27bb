/**
 * The database is the judge of what the cluster answered: every 2xx is there, no 503
 * SERVICE_UNAVAILABLE was applied, no seat is taken twice — neither in the reservations nor in a
 * schedule's journal — and what an owner shows is what the database holds.
 */
import type { Pool } from 'pg';
import type { Answer } from './cluster-load';
import { call } from './hold-load';

export interface AnswersVersusDatabase {
  /** 201 holds without their reservation. */
  lostHolds: Answer[];
  /** 201 payments whose payment is missing or whose reservation is not CONFIRMED. */
  lostPayments: Answer[];
  /** 200 cancels whose reservation is not CANCELLED. */
  lostCancels: Answer[];
  /** 503 SERVICE_UNAVAILABLE ("nothing applied") whose change is in the database anyway (its key never heard "maybe"). */
  appliedAfterNo: Answer[];
  /** Anything but 2xx, 4xx and 503 (5xx, or no answer at all). */
  unexpected: Answer[];
  counts: Record<string, number>;
}

export async function checkAnswers(db: Pool, answers: Answer[]): Promise<AnswersVersusDatabase> {
  const { rows: reservations } = await db.query<{ id: string; status: string; idempotency_key: string | null; cancel_idempotency_key: string | null }>(
    'SELECT id, status, idempotency_key, cancel_idempotency_key FROM reservations',
  );
  const { rows: payments } = await db.query<{ id: string; reservation_id: string }>('SELECT id, reservation_id FROM payments');
  const { rows: paymentKeys } = await db.query<{ key: string }>(`SELECT key FROM idempotency_keys WHERE scope LIKE 'payment:%' AND status_code = 201`);
  const byId = new Map(reservations.map((r) => [r.id, r]));
  const appliedKeys = {
    hold: new Set(reservations.map((r) => r.idempotency_key)),
    cancel: new Set(reservations.map((r) => r.cancel_idempotency_key)),
    pay: new Set(paymentKeys.map((r) => r.key)),
  };
  const paymentIds = new Set(payments.map((p) => p.id));
  // A key that once heard "maybe applied" (and was replayed) may be applied whatever it heard later.
  const maybeKeys = new Set(answers.filter((a) => a.status === 0 || a.code === 'OUTCOME_UNKNOWN').map((a) => a.key));

  const counts: Record<string, number> = {};
  for (const a of answers) {
    const label = `${a.kind} ${a.status}${a.code ? ` ${a.code}` : ''}`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  const unavailable = (a: Answer) => a.status === 503 && a.code === 'SERVICE_UNAVAILABLE';
  return {
    lostHolds: answers.filter((a) => a.kind === 'hold' && a.status === 201 && !(byId.has(a.reservationId!) && appliedKeys.hold.has(a.key))),
    lostPayments: answers.filter(
      (a) => a.kind === 'pay' && a.status === 201 && !(paymentIds.has(a.paymentId!) && byId.get(a.reservationId!)?.status === 'CONFIRMED'),
    ),
    lostCancels: answers.filter((a) => a.kind === 'cancel' && a.status === 200 && byId.get(a.reservationId!)?.status !== 'CANCELLED'),
    appliedAfterNo: answers.filter((a) => unavailable(a) && !maybeKeys.has(a.key) && appliedKeys[a.kind].has(a.key)),
    unexpected: answers.filter((a) => !((a.status >= 200 && a.status < 300) || (a.status >= 400 && a.status < 500) || a.status === 503)),
    counts,
  };
}

/** Seats in two live (HELD and unexpired, or CONFIRMED) reservations. */
export async function doubleBookedSeats(db: Pool): Promise<{ schedule_id: string; seat: number; n: number }[]> {
  const { rows } = await db.query(`
    SELECT schedule_id, seat, count(*)::int AS n FROM reservations, unnest(seat_nos) AS seat
    WHERE status = 'CONFIRMED' OR (status = 'HELD' AND expires_at > now())
    GROUP BY schedule_id, seat HAVING count(*) > 1`);
  return rows;
}

/**
 * Replays a schedule's journal and returns every SeatsHeld that took a seat still held or sold
 * (the mark of two owners deciding at once: each journals from its own memory).
 */
export async function journalDoubleHolds(db: Pool, scheduleId: string): Promise<string[]> {
  const { rows } = await db.query<{ seq: string; type: string; payload: { reservationId: string; seatNos?: number[] } }>(
    'SELECT seq, type, payload FROM journal WHERE schedule_id = $1 ORDER BY seq',
    [scheduleId],
  );
  const takenBy = new Map<number, string>();
  const seatsOf = new Map<string, number[]>();
  const conflicts: string[] = [];
  for (const { seq, type, payload } of rows) {
    if (type === 'SeatsHeld') {
      for (const seat of payload.seatNos ?? []) {
        if (takenBy.has(seat)) conflicts.push(`seq ${seq}: seat ${seat} held by ${payload.reservationId} while taken by ${takenBy.get(seat)}`);
        takenBy.set(seat, payload.reservationId);
      }
      seatsOf.set(payload.reservationId, payload.seatNos ?? []);
    } else if (type === 'HoldReleased' || type === 'HoldExpired') {
      for (const seat of seatsOf.get(payload.reservationId) ?? []) if (takenBy.get(seat) === payload.reservationId) takenBy.delete(seat);
    }
  }
  return conflicts;
}

/** Seats whose status in the seat map `url` serves differs from the database (HELD, SOLD or AVAILABLE). */
export async function seatMapMismatches(url: string, db: Pool, scheduleId: string): Promise<string[]> {
  // A 503 is the honest "not now" of a member that is rebalancing (a resumed or restarted member
  // rejoining moves partitions again): ask again for up to 10 s, as a client would. What is
  // checked is the map once it is answered.
  const deadline = Date.now() + 10_000;
  let map = await call(`${url}/v1/schedules/${scheduleId}/seats`, 'GET');
  while (map.status === 503 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    map = await call(`${url}/v1/schedules/${scheduleId}/seats`, 'GET');
  }
  if (map.status !== 200) return [`seat map answered ${map.status} ${JSON.stringify(map.body)}`];
  const { rows } = await db.query<{ seat: number; status: string }>(
    `SELECT seat, status FROM reservations, unnest(seat_nos) AS seat
     WHERE schedule_id = $1 AND (status = 'CONFIRMED' OR (status = 'HELD' AND expires_at > now()))`,
    [scheduleId],
  );
  const expected = new Map(rows.map((r) => [r.seat, r.status === 'CONFIRMED' ? 'SOLD' : 'HELD']));
  return (map.body.seats as { seatNo: number; status: string }[])
    .filter((seat) => seat.status !== (expected.get(seat.seatNo) ?? 'AVAILABLE'))
    .map((seat) => `seat ${seat.seatNo}: map ${seat.status}, database ${expected.get(seat.seatNo) ?? 'AVAILABLE'}`);
}
