/**
 * Every answer the buyers got, against the database (the method of test/support/hold-load.ts
 * `checkAnswers`, extended to cancels, payments and charges, and to replays of one key):
 *  - no 500 (any 5xx but the documented 503s);
 *  - a yes is in the database: a 201 hold is the row with that Idempotency-Key and reservationId,
 *    a 200 cancel sets cancel_idempotency_key, a 201 payment is the idempotency record (scope
 *    payment:<userId>) and that payment, a 200 charge is APPROVED, a 202 exists, a 402 is DECLINED,
 *    a charge's 503 OUTCOME_UNKNOWN exists ("the row is there and will be settled");
 *  - a no was not applied: since one key may be replayed, the change found in the database is
 *    attributed by time to the attempt that made it. Its decision time (reservations.created_at
 *    for a hold, updated_at for a cancel, payments.created_at, charges.created_at; all the same
 *    wall clock as the client's) falls inside one attempt's [sent, received]; that attempt must
 *    not be a 503 SERVICE_UNAVAILABLE / PAYMENT_GATEWAY_UNAVAILABLE or a refusal. A decision in the
 *    gap after a 503 SERVICE_UNAVAILABLE (and before the next attempt) means the refused command
 *    was decided after all: dishonest too;
 *  - a replay tells the truth: a key that was applied is not finally answered with a refusal, and
 *    every yes of one key names the same reservation / payment / charge;
 *  - bounded: every answer within ANSWER_BOUND_MS, except requests in flight at the server's SIGKILL.
 */
import type { Pool } from 'pg';
import { ANSWER_BOUND_MS, type Answer, type Operation } from './client';
import type { FaultRecord } from './faults';
import { check, type InvariantResult } from './types';

/** 503 codes each operation may honestly answer. */
const HONEST_503: Record<string, readonly string[]> = {
  charge: ['SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN', 'PAYMENT_GATEWAY_UNAVAILABLE'],
  hold: ['SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN'],
  cancel: ['SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN'],
  pay: ['SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN'],
};
const READ_503 = ['SERVICE_UNAVAILABLE'];
const TOLERANCE_MS = 5;

interface Applied {
  id: string;
  /** Decision time, epoch ms. */
  at: number;
  status?: string;
}

type KeyedOp = Extract<Operation, 'hold' | 'cancel' | 'pay' | 'charge'>;
const KEYED: readonly KeyedOp[] = ['hold', 'cancel', 'pay', 'charge'];

async function appliedKeys(db: Pool): Promise<Record<KeyedOp, Map<string, Applied>>> {
  const holds = new Map<string, Applied>();
  const cancels = new Map<string, Applied>();
  const reservations = await db.query<{ id: string; user_id: string; k: string | null; ck: string | null; created_at: Date; updated_at: Date; status: string }>(
    `SELECT id::text, user_id::text, idempotency_key AS k, cancel_idempotency_key AS ck, created_at, updated_at, status
       FROM reservations WHERE idempotency_key IS NOT NULL OR cancel_idempotency_key IS NOT NULL`,
  );
  for (const r of reservations.rows) {
    if (r.k) holds.set(`${r.user_id}/${r.k}`, { id: r.id, at: r.created_at.getTime(), status: r.status });
    if (r.ck) cancels.set(`${r.user_id}/${r.ck}`, { id: r.id, at: r.updated_at.getTime(), status: r.status });
  }
  const payments = new Map<string, Applied>();
  const paid = await db.query<{ scope: string; key: string; id: string | null; created_at: Date | null }>(
    `SELECT i.scope, i.key, p.id::text, p.created_at
       FROM idempotency_keys i LEFT JOIN payments p ON p.id::text = i.response->>'paymentId'
      WHERE i.scope LIKE 'payment:%'`,
  );
  for (const r of paid.rows) payments.set(`${r.scope.slice('payment:'.length)}/${r.key}`, { id: r.id ?? '(no payment row)', at: r.created_at?.getTime() ?? 0 });
  const charges = new Map<string, Applied>();
  const charged = await db.query<{ id: string; user_id: string; k: string | null; status: string; created_at: Date }>(
    'SELECT id::text, user_id::text, idempotency_key AS k, status, created_at FROM charges WHERE idempotency_key IS NOT NULL',
  );
  for (const r of charged.rows) charges.set(`${r.user_id}/${r.k}`, { id: r.id, at: r.created_at.getTime(), status: r.status });
  return { hold: holds, cancel: cancels, pay: payments, charge: charges };
}

const isYes = (a: Answer): boolean => (a.op === 'hold' || a.op === 'pay' ? a.status === 201 : a.op === 'charge' ? a.status === 200 || a.status === 202 : a.status === 200);
const isUnknown = (a: Answer): boolean => a.status === 0 || a.code === 'OUTCOME_UNKNOWN';
/** "Nothing was applied" or a refusal of the request itself (not of its token). */
const isNo = (a: Answer): boolean =>
  (a.status === 503 && (a.code === 'SERVICE_UNAVAILABLE' || a.code === 'PAYMENT_GATEWAY_UNAVAILABLE')) ||
  (a.status >= 400 && a.status < 500 && ![401, 403, 429].includes(a.status) && !(a.op === 'charge' && a.status === 402));
/** An answer that states the outcome of the key (a yes or a refusal of the request). */
const isDefinitive = (a: Answer): boolean => isYes(a) || (a.status >= 400 && a.status < 500 && ![401, 403, 429].includes(a.status));
const idOf = (a: Answer): string | undefined => (a.op === 'pay' ? a.paymentId : a.op === 'charge' ? a.chargeId : a.reservationId);

const brief = (a: Answer, loadStart: number) => ({
  op: a.op,
  status: a.status,
  code: a.code,
  error: a.error,
  key: a.key,
  attempt: a.attempt,
  userId: a.userId,
  id: idOf(a),
  sentAt: `+${((a.sentAt - loadStart) / 1000).toFixed(3)} s`,
  ms: Math.round(a.ms),
});

export async function answerChecks(db: Pool, answers: readonly Answer[], faults: readonly FaultRecord[], loadStart: number): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  const kills = faults.filter((f) => f.kind === 'server-kill');
  const atKill = (a: Answer): boolean => kills.some((k) => a.sentAt <= k.endedAt && a.receivedAt >= k.startedAt);

  const serverErrors = answers.filter((a) => a.status >= 500 && !(a.status === 503 && (HONEST_503[a.op] ?? READ_503).includes(a.code ?? '')));
  results.push(check('answers', 'no 500 (every 5xx is a documented 503 of its route)', serverErrors.length === 0, `${serverErrors.length} answers`, serverErrors.map((a) => brief(a, loadStart))));

  const slow = answers.filter((a) => a.ms > ANSWER_BOUND_MS && !atKill(a));
  results.push(check('answers', `every request answered within ${ANSWER_BOUND_MS / 1000} s (but those in flight at the SIGKILL)`, slow.length === 0, `${slow.length} slower (max ${Math.round(Math.max(0, ...answers.map((a) => a.ms)))} ms)`, slow.map((a) => brief(a, loadStart))));

  const applied = await appliedKeys(db);
  const groups = new Map<string, Answer[]>();
  for (const a of answers) {
    if (!a.key || !KEYED.includes(a.op as KeyedOp)) continue;
    const id = `${a.op}|${a.userId}/${a.key}`;
    const list = groups.get(id) ?? [];
    list.push(a);
    groups.set(id, list);
  }
  const lostAfterYes: Answer[] = [];
  const appliedAfterNo: { answer: Answer; decidedAt: string; how: string }[] = [];
  const untruthfulReplay: Answer[] = [];
  const inconsistentIds: Answer[] = [];
  let replayedKeys = 0;
  let attributed = 0;
  let betweenAttempts = 0;
  let beforeFirstAttempt = 0;
  let unknownResolved = 0;
  for (const [id, list] of groups) {
    const op = id.slice(0, id.indexOf('|')) as KeyedOp;
    const found = applied[op].get(id.slice(id.indexOf('|') + 1));
    list.sort((x, y) => x.sentAt - y.sentAt);
    if (list.length > 1) replayedKeys++;
    // A yes is in the database (and is that very row); a charge's 402/unknown is what it says.
    for (const a of list) {
      if (isYes(a) && (!found || (idOf(a) !== undefined && idOf(a) !== found.id))) lostAfterYes.push(a);
      else if (op === 'charge' && a.status === 200 && found?.status !== 'APPROVED') lostAfterYes.push(a);
      else if (op === 'charge' && a.status === 402 && a.code === 'PAYMENT_DECLINED' && found?.status !== 'DECLINED') lostAfterYes.push(a);
      else if (op === 'charge' && a.code === 'OUTCOME_UNKNOWN' && !found) lostAfterYes.push(a);
    }
    const yesIds = new Set(list.filter(isYes).map(idOf).filter((x) => x !== undefined));
    if (yesIds.size > 1) inconsistentIds.push(...list.filter(isYes));
    if (list.some(isUnknown) && list.some(isDefinitive)) unknownResolved++;
    if (!found) continue;
    // Which attempt made the change?
    const t = found.at;
    const maker = list.find((a) => a.sentAt - TOLERANCE_MS <= t && t <= a.receivedAt + TOLERANCE_MS);
    const decidedAt = new Date(t).toISOString();
    if (maker) attributed++;
    else if (t < list[0]!.sentAt) beforeFirstAttempt++;
    else betweenAttempts++;
    if (maker && isNo(maker)) appliedAfterNo.push({ answer: maker, decidedAt, how: 'decided during an attempt answered with a no' });
    if (!maker) {
      const before = list.filter((a) => a.receivedAt + TOLERANCE_MS < t).pop();
      if (before && isNo(before)) appliedAfterNo.push({ answer: before, decidedAt, how: 'decided after its attempt was answered with a no' });
    }
    const last = list.filter(isDefinitive).pop();
    const truthful = op === 'charge' ? !last || isYes(last) || (last.status === 402 && found.status === 'DECLINED') : !last || isYes(last);
    if (!truthful && last) untruthfulReplay.push(last);
  }
  const keyed = [...groups.values()];
  results.push(
    check(
      'answers',
      'every yes is in the database (201/200 hold, cancel, payment, charge; 202 and unknown charges exist; 402 is DECLINED)',
      lostAfterYes.length === 0,
      `${lostAfterYes.length} of ${keyed.reduce((n, l) => n + l.filter(isYes).length, 0)} yes answers not found`,
      lostAfterYes.map((a) => brief(a, loadStart)),
    ),
    check(
      'answers',
      'no "no" was applied (503 SERVICE_UNAVAILABLE / PAYMENT_GATEWAY_UNAVAILABLE or a refusal, attributed by decision time)',
      appliedAfterNo.length === 0,
      `${appliedAfterNo.length} of ${keyed.reduce((n, l) => n + l.filter(isNo).length, 0)} no answers were applied; ` +
        `${attributed} applied keys attributed to an attempt, ${betweenAttempts} decided between attempts, ${beforeFirstAttempt} before the first (clock)`,
      appliedAfterNo.map(({ answer, decidedAt, how }) => ({ ...brief(answer, loadStart), decidedAt, how })),
    ),
    check(
      'answers',
      'replays tell the truth (an applied key is not finally refused; one id per key)',
      untruthfulReplay.length === 0 && inconsistentIds.length === 0,
      `${replayedKeys} keys replayed, ${unknownResolved} unknown outcomes resolved by a replay; ${untruthfulReplay.length} applied keys finally refused, ` +
        `${inconsistentIds.length} yes answers with differing ids`,
      [...untruthfulReplay, ...inconsistentIds].map((a) => brief(a, loadStart)),
    ),
  );
  const lostAnswers = answers.filter((a) => a.status === 0 && !atKill(a));
  const noAnswer = {
    group: 'answers',
    name: 'no answer (connection refused/reset, timeout) only around the server SIGKILL',
    ok: true,
    detail: `${answers.filter((a) => a.status === 0).length} without an answer, ${lostAnswers.length} of them away from the SIGKILL (reported, not failed: a keep-alive race of the client can do it)`,
    ...(lostAnswers.length > 0 ? { examples: lostAnswers.slice(0, 5).map((a) => brief(a, loadStart)) } : {}),
  };
  results.push(noAnswer);
  return results;
}
