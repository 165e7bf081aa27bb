/**
 * The state checks, from the database, the engine's seat maps, the gateway simulator's books and
 * the Kafka topic, once everything is settled:
 *  - seats: none in two CONFIRMED reservations of a schedule; none in two live ones (HELD and not
 *    expired, or CONFIRMED); no hold left HELD past its expiry; the seat maps show the database;
 *  - money: every balance = the sum of its ledger; Σ approved charges − Σ payments = Σ balances;
 *    no negative balance; every approved charge credited exactly once, nothing else credited;
 *    every payment debited once and matching its CONFIRMED reservation; the gateway's approvals
 *    are exactly our APPROVED charges; no charge left PENDING;
 *  - confirmations: every payment has exactly one outbox row (one eventId), all published, and
 *    every eventId is on the topic (duplicates on the wire allowed, reported).
 */
import type { Pool } from 'pg';
import type { GatewaySimulator } from '../../src/payments/gateway-simulator';
import { readTopic } from '../../test/support/topic-reader';
import type { SettleReport } from './settle';
import { check, type InvariantResult } from './types';

const SOLD_TWICE = `
  SELECT r.schedule_id::text AS schedule_id, n AS seat_no, count(*)::int AS times
    FROM reservations r, unnest(r.seat_nos) n WHERE r.status = 'CONFIRMED'
   GROUP BY 1, 2 HAVING count(*) > 1`;

const LIVE_TWICE = `
  SELECT r.schedule_id::text AS schedule_id, n AS seat_no, count(*)::int AS times
    FROM reservations r, unnest(r.seat_nos) n
   WHERE r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.expires_at > now())
   GROUP BY 1, 2 HAVING count(*) > 1`;

const CLAIMED = `
  SELECT r.schedule_id::text AS schedule_id, n AS seat_no, r.status
    FROM reservations r, unnest(r.seat_nos) n
   WHERE r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.expires_at > now())`;

const MONEY = `
  SELECT (SELECT coalesce(sum(amount), 0) FROM charges WHERE status = 'APPROVED')::bigint AS approved,
         (SELECT coalesce(sum(amount), 0) FROM payments)::bigint AS paid,
         (SELECT coalesce(sum(balance), 0) FROM balances)::bigint AS balances,
         (SELECT count(*) FROM balances WHERE balance < 0)::int AS negative,
         (SELECT count(*) FROM balances)::int AS users,
         (SELECT count(*) FROM balances b
            FULL JOIN (SELECT user_id, sum(delta) AS total FROM balance_ledger GROUP BY 1) l USING (user_id)
           WHERE coalesce(b.balance, 0) <> coalesce(l.total, 0))::int AS ledger_mismatch,
         (SELECT count(*) FROM charges c WHERE c.status = 'APPROVED' AND (SELECT count(*) FROM balance_ledger l
             WHERE l.kind = 'CHARGE' AND l.ref_id = c.id AND l.delta = c.amount) <> 1)::int AS approved_not_credited_once,
         (SELECT count(*) FROM balance_ledger l LEFT JOIN charges c ON c.id = l.ref_id
           WHERE l.kind = 'CHARGE' AND (c.id IS NULL OR c.status <> 'APPROVED'))::int AS stray_credits,
         (SELECT count(*) FROM payments p WHERE (SELECT count(*) FROM balance_ledger l
             WHERE l.kind = 'PAYMENT' AND l.ref_id = p.id AND l.delta = -p.amount) <> 1)::int AS payment_not_debited_once,
         (SELECT count(*) FROM balance_ledger l LEFT JOIN payments p ON p.id = l.ref_id
           WHERE l.kind = 'PAYMENT' AND p.id IS NULL)::int AS stray_debits,
         (SELECT count(*) FROM payments p JOIN reservations r ON r.id = p.reservation_id
           WHERE p.amount <> r.amount OR r.status <> 'CONFIRMED' OR p.user_id <> r.user_id)::int AS payment_mismatch,
         (SELECT count(*) FROM reservations r WHERE r.status = 'CONFIRMED'
             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.reservation_id = r.id))::int AS unpaid_confirmed,
         (SELECT count(*) FROM payments)::int AS payments,
         (SELECT count(*) FROM charges)::int AS charges,
         (SELECT count(*) FROM charges WHERE status = 'DECLINED')::int AS declined`;

const OUTBOX = `
  SELECT (SELECT count(*) FROM payments p
           WHERE (SELECT count(*) FROM outbox o WHERE o.payload->>'paymentId' = p.id::text) <> 1)::int AS payments_without_one_row,
         (SELECT count(*) FROM outbox o
           WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.id::text = o.payload->>'paymentId'))::int AS rows_without_payment,
         (SELECT count(*) FROM outbox
           WHERE headers->>'event-id' IS DISTINCT FROM event_id::text OR payload->>'eventId' IS DISTINCT FROM event_id::text)::int AS id_mismatch,
         (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS unpublished,
         (SELECT count(*) FROM outbox)::int AS rows`;

export async function seatChecks(db: Pool, serverUrl: string, settled: SettleReport): Promise<InvariantResult[]> {
  const soldTwice = (await db.query(SOLD_TWICE)).rows;
  const liveTwice = (await db.query(LIVE_TWICE)).rows;
  const results = [
    check('seats', 'no seat sold twice (in two CONFIRMED reservations of a schedule)', soldTwice.length === 0, `${soldTwice.length} seats`, soldTwice),
    check('seats', 'no seat in two live reservations (HELD unexpired or CONFIRMED)', liveTwice.length === 0, `${liveTwice.length} seats`, liveTwice),
    check(
      'seats',
      'every hold past its expiry is EXPIRED',
      settled.holdsPastExpiry === 0,
      settled.holdsPastExpiry === 0 ? `after ${Math.round((settled.holdsExpiredMs ?? 0) / 1000)} s of waiting` : `${settled.holdsPastExpiry} still HELD > 5 s past expiresAt`,
    ),
  ];
  results.push(await seatMapsAgree(db, serverUrl));
  return results;
}

/** The engine's own view (GET /v1/schedules/{id}/seats) against the database. */
async function seatMapsAgree(db: Pool, serverUrl: string): Promise<InvariantResult> {
  const want = new Map<string, string>();
  for (const row of (await db.query<{ schedule_id: string; seat_no: number; status: string }>(CLAIMED)).rows) {
    want.set(`${row.schedule_id}/${row.seat_no}`, row.status === 'CONFIRMED' ? 'SOLD' : 'HELD');
  }
  const schedules = (await db.query<{ id: string }>('SELECT id::text AS id FROM schedules ORDER BY id')).rows;
  const differences: string[] = [];
  let seats = 0;
  for (const { id } of schedules) {
    const response = await fetch(`${serverUrl}/v1/schedules/${id}/seats`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) {
      differences.push(`schedule ${id}: seat map answered ${response.status}`);
      continue;
    }
    const map = (await response.json()) as { seats: { seatNo: number; status: string }[] };
    for (const seat of map.seats) {
      seats++;
      const should = want.get(`${id}/${seat.seatNo}`) ?? 'AVAILABLE';
      if (seat.status !== should) differences.push(`schedule ${id} seat ${seat.seatNo}: map ${seat.status}, database ${should}`);
    }
  }
  return check('seats', "the engine's seat maps agree with the database", differences.length === 0, `${differences.length} of ${seats} seats differ`, differences);
}

export async function moneyChecks(db: Pool, gateway: GatewaySimulator, settled: SettleReport): Promise<InvariantResult[]> {
  const m = (await db.query(MONEY)).rows[0] as Record<string, string | number>;
  const n = (name: string): number => Number(m[name]);
  const results = [
    check('money', 'every balance equals the sum of its ledger', n('ledger_mismatch') === 0, `${n('ledger_mismatch')} of ${n('users')} users differ`),
    check(
      'money',
      'Σ approved charges − Σ payments = Σ balances',
      n('approved') - n('paid') === n('balances'),
      `${n('approved')} − ${n('paid')} = ${n('approved') - n('paid')}; balances sum to ${n('balances')}`,
    ),
    check('money', 'no negative balance', n('negative') === 0, `${n('negative')} negative`),
    check(
      'money',
      'every APPROVED charge credited exactly once, nothing else credited',
      n('approved_not_credited_once') === 0 && n('stray_credits') === 0,
      `${n('approved_not_credited_once')} approved charges not credited exactly once, ${n('stray_credits')} credits without an approved charge`,
    ),
    check(
      'money',
      'every payment debited exactly once and matching its CONFIRMED reservation; every CONFIRMED reservation paid',
      n('payment_not_debited_once') === 0 && n('stray_debits') === 0 && n('payment_mismatch') === 0 && n('unpaid_confirmed') === 0,
      `${n('payments')} payments: ${n('payment_not_debited_once')} not debited once, ${n('stray_debits')} stray debits, ` +
        `${n('payment_mismatch')} mismatched, ${n('unpaid_confirmed')} unpaid CONFIRMED`,
    ),
    check(
      'money',
      'no PENDING charge left after reconciliation',
      settled.pendingCharges.length === 0,
      settled.pendingCharges.length === 0
        ? `${n('charges')} charges (${n('declined')} declined), all settled ${Math.round((settled.chargesSettledMs ?? 0) / 1000)} s after the load`
        : `${settled.pendingCharges.length} still PENDING after 180 s`,
      settled.pendingCharges,
    ),
  ];
  results.push(await gatewayAgrees(db, gateway));
  return results;
}

/** The gateway's books (our charge id is its idempotency key) against our charges. */
async function gatewayAgrees(db: Pool, gateway: GatewaySimulator): Promise<InvariantResult> {
  const ours = new Map(
    (await db.query<{ id: string; status: string; amount: string }>('SELECT id::text, status, amount FROM charges')).rows.map((r) => [r.id, r]),
  );
  const problems: string[] = [];
  const theirs = gateway.charges();
  for (const charge of theirs) {
    const row = ours.get(charge.idempotencyKey);
    if (!row) problems.push(`gateway ${charge.status} ${charge.amount} for key ${charge.idempotencyKey}: no such charge here`);
    else if (row.status !== charge.status) problems.push(`charge ${row.id}: ${row.status} here, ${charge.status} at the gateway`);
    else if (Number(row.amount) !== charge.amount) problems.push(`charge ${row.id}: amount ${row.amount} here, ${charge.amount} at the gateway`);
  }
  const atGateway = new Set(theirs.map((c) => c.idempotencyKey));
  for (const row of ours.values()) if (row.status === 'APPROVED' && !atGateway.has(row.id)) problems.push(`charge ${row.id}: APPROVED here, unknown to the gateway`);
  return check(
    'money',
    "the gateway's charges are exactly ours (APPROVED/DECLINED alike, same amounts)",
    problems.length === 0,
    `${theirs.length} charges at the gateway, ${ours.size} here; ${problems.length} disagreements`,
    problems,
  );
}

export interface KafkaCount {
  eventIds: number;
  onTopic: number;
  records: number;
  duplicates: number;
  missing: number;
  unknown: number;
}

export async function confirmationChecks(db: Pool, brokers: string, topic: string, settled: SettleReport): Promise<{ results: InvariantResult[]; kafka: KafkaCount }> {
  const o = (await db.query(OUTBOX)).rows[0] as Record<string, number>;
  const results = [
    check(
      'confirmations',
      'every payment has exactly one outbox row (one eventId), and every row a payment',
      o['payments_without_one_row'] === 0 && o['rows_without_payment'] === 0 && o['id_mismatch'] === 0,
      `${o['rows']} rows: ${o['payments_without_one_row']} payments without exactly one, ${o['rows_without_payment']} rows without a payment, ` +
        `${o['id_mismatch']} with header/payload eventId ≠ event_id`,
    ),
    check(
      'confirmations',
      'the outbox drained after Kafka came back',
      settled.outboxUnpublished === 0,
      settled.outboxUnpublished === 0 ? `all published ${Math.round((settled.outboxDrainedMs ?? 0) / 1000)} s after the load` : `${settled.outboxUnpublished} unpublished after 120 s`,
    ),
  ];
  const eventIds = new Set((await db.query<{ id: string }>('SELECT event_id::text AS id FROM outbox')).rows.map((r) => r.id));
  const reader = await readTopic(brokers, topic);
  const seen = (): Set<string> => new Set(reader.records.map((r) => r.headers['event-id'] ?? String(r.value['eventId'])));
  try {
    await reader.waitFor(() => [...eventIds].every((id) => seen().has(id)) && reader.records.length >= eventIds.size, 60_000).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // late duplicates
  } finally {
    await reader.close().catch(() => undefined);
  }
  const onTopic = seen();
  const missing = [...eventIds].filter((id) => !onTopic.has(id));
  const unknown = [...onTopic].filter((id) => !eventIds.has(id));
  const headerMismatch = reader.records.filter((r) => r.headers['event-id'] !== r.value['eventId']).length;
  const kafka = {
    eventIds: eventIds.size,
    onTopic: onTopic.size,
    records: reader.records.length,
    duplicates: reader.records.length - onTopic.size,
    missing: missing.length,
    unknown: unknown.length,
  };
  results.push(
    check(
      'confirmations',
      'every outbox eventId is on the Kafka topic (duplicates allowed), and nothing else is',
      missing.length === 0 && unknown.length === 0 && headerMismatch === 0,
      `${eventIds.size} eventIds, ${reader.records.length} records read (${kafka.duplicates} duplicates): ${missing.length} missing, ` +
        `${unknown.length} unknown, ${headerMismatch} with header ≠ payload eventId`,
      [...missing.slice(0, 3), ...unknown.slice(0, 2)],
    ),
  );
  return { results, kafka };
}
