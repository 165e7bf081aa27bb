/**
 * Buyers for the cluster tests, all through one URL (the front): each round holds one seat it
 * believes free and then pays for it or cancels it. Every answer is recorded with its
 * Idempotency-Key, so the checks (cluster-checks.ts) can hold each one against the database.
 * `payShare: 1` sells the schedules out: a buyer that finds no free seat left reads the seat map,
 * and stops once every seat is SOLD.
 */
import { randomUUID } from 'node:crypto';
import { call } from './hold-load';
import { ADMIN_KEY } from './test-app';

export interface Answer {
  kind: 'hold' | 'pay' | 'cancel';
  key: string;
  scheduleId: string;
  seatNo: number;
  reservationId?: string;
  paymentId?: string;
  status: number;
  code?: string;
  at: number;
  ms: number;
}

export interface Buyer {
  userId: string;
  token: string;
}

export interface Schedule {
  scheduleId: string;
  seatCount: number;
}

export async function createConcert(url: string, seatCounts: number[]): Promise<{ concertId: string; schedules: Schedule[] }> {
  const created = await call(`${url}/v1/admin/concerts`, 'POST', {
    title: `Cluster ${randomUUID().slice(0, 8)}`,
    venue: 'Olympic Hall',
    schedules: seatCounts.map((seatCount, i) => ({ startsAt: new Date(Date.UTC(2099, 2, 1 + i, 19)).toISOString(), seatCount, price: 1_000 })),
  }, { 'x-admin-key': ADMIN_KEY });
  if (created.status !== 201) throw new Error(`concert: ${created.status} ${JSON.stringify(created.body)}`);
  return {
    concertId: created.body.concertId,
    schedules: created.body.schedules.map((s: { scheduleId: string }, i: number) => ({ scheduleId: s.scheduleId, seatCount: seatCounts[i]! })),
  };
}

async function newToken(url: string, userId: string, concertId: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const issued = await call(`${url}/v1/queue/tokens`, 'POST', { userId, concertId }).catch(() => undefined);
    if (issued && (issued.status === 200 || issued.status === 201) && issued.body.status === 'ACTIVE') return issued.body.token as string;
    if (attempt >= 20) throw new Error(`no ACTIVE token for ${userId}: ${issued?.status} ${JSON.stringify(issued?.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Users with an ACTIVE token and enough balance for `seats` seats at 1,000. */
export async function prepareBuyers(url: string, concertId: string, count: number, seats = 1_000): Promise<Buyer[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const userId = randomUUID();
      const token = await newToken(url, userId, concertId);
      const charged = await call(`${url}/v1/users/${userId}/balance/charges`, 'POST', { amount: seats * 1_000 }, { 'idempotency-key': randomUUID() });
      if (charged.status !== 200) throw new Error(`charge: ${charged.status} ${JSON.stringify(charged.body)}`);
      return { userId, token };
    }),
  );
}

export interface BuyingLoad {
  answers: Answer[];
  /** Resolves when every buyer has stopped (after `stop()`, or on its own once sold out). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface BuyingOptions {
  url: string;
  concertId: string;
  schedules: Schedule[];
  buyers: Buyer[];
  /** Share of held seats that are paid for; the rest are cancelled. 1 = sell out. */
  payShare: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const shuffled = <T>(items: T[]): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
};

export function startBuying(options: BuyingOptions): BuyingLoad {
  const { url, concertId, schedules, buyers, payShare } = options;
  const answers: Answer[] = [];
  let stopping = false;
  // Each buyer tries the seats in its own random order, so buyers collide (409) as real ones do;
  // a buyer's list is refilled from the seat map when it runs dry.
  const everySeat = (s: Schedule) => Array.from({ length: s.seatCount }, (_, i) => i + 1);
  const soldOut = new Set<string>();
  // Seats some buyer paid for: the others skip them instead of hearing 409 for each.
  const sold = new Map(schedules.map((s) => [s.scheduleId, new Set<number>()]));

  /** Sends and records; the ids of a 201 go on its record. `undefined`: no answer (connection lost). */
  const record = async (answer: Omit<Answer, 'status' | 'code' | 'at' | 'ms'>, send: () => ReturnType<typeof call>) => {
    const at = Date.now();
    try {
      const response = await send();
      answers.push({
        ...answer,
        ...(response.status === 201 && answer.kind === 'hold' ? { reservationId: response.body.reservationId } : {}),
        ...(response.status === 201 && answer.kind === 'pay' ? { paymentId: response.body.paymentId } : {}),
        status: response.status,
        code: response.body?.code,
        at,
        ms: response.ms,
      });
      return response;
    } catch (error) {
      answers.push({ ...answer, status: 0, code: (error as Error).name, at, ms: Date.now() - at });
      return undefined;
    }
  };

  const refill = async (candidates: Map<string, number[]>, scheduleId: string) => {
    const map = await call(`${url}/v1/schedules/${scheduleId}/seats`, 'GET').catch(() => undefined);
    if (map?.status !== 200) return;
    const seats = map.body.seats as { seatNo: number; status: string }[];
    if (seats.every((s) => s.status === 'SOLD')) soldOut.add(scheduleId);
    candidates.set(scheduleId, shuffled(seats.filter((s) => s.status === 'AVAILABLE').map((s) => s.seatNo)));
  };

  /** Pays, replaying the same key while the answer is "try again" (503) or lost (0); false if it never got through. */
  const pay = async (buyer: Buyer, scheduleId: string, seatNo: number, reservationId: string): Promise<boolean> => {
    const key = randomUUID();
    for (let attempt = 1; attempt <= 20 && !stopping; attempt++) {
      const paid = await record({ kind: 'pay', key, scheduleId, seatNo, reservationId }, () =>
        call(`${url}/v1/payments`, 'POST', { reservationId }, { 'queue-token': buyer.token, 'idempotency-key': key }),
      );
      if (paid?.status === 201) return true;
      if (paid && paid.status !== 503) return false;
      await pause(200);
    }
    return false;
  };

  const cancel = async (buyer: Buyer, scheduleId: string, seatNo: number, reservationId: string) => {
    const key = randomUUID();
    for (let attempt = 1; attempt <= 20; attempt++) {
      const cancelled = await record({ kind: 'cancel', key, scheduleId, seatNo, reservationId }, () =>
        call(`${url}/v1/reservations/${reservationId}`, 'DELETE', undefined, { 'queue-token': buyer.token, 'idempotency-key': key }),
      );
      if (cancelled && cancelled.status !== 503) return;
      await pause(200);
    }
  };

  const runs = buyers.map(async (buyer) => {
    const candidates = new Map(schedules.map((s) => [s.scheduleId, shuffled(everySeat(s))]));
    while (!stopping) {
      const open = schedules.filter((s) => !soldOut.has(s.scheduleId));
      if (open.length === 0) return;
      const { scheduleId } = open[Math.floor(Math.random() * open.length)]!;
      const list = candidates.get(scheduleId)!;
      let seatNo = list.pop();
      while (seatNo !== undefined && sold.get(scheduleId)!.has(seatNo)) seatNo = list.pop();
      if (seatNo === undefined) {
        await refill(candidates, scheduleId);
        if (candidates.get(scheduleId)!.length === 0) await pause(100);
        continue;
      }
      const key = randomUUID();
      const sendHold = () =>
        record({ kind: 'hold', key, scheduleId, seatNo }, () =>
          call(`${url}/v1/reservations`, 'POST', { scheduleId, seatNos: [seatNo] }, { 'queue-token': buyer.token, 'idempotency-key': key }),
        );
      let held = await sendHold();
      // "Maybe applied" (OUTCOME_UNKNOWN, or no answer): the same key tells the truth, as a real
      // client would learn it; otherwise a seat might stay held by nobody until it expires.
      for (let replay = 1; replay <= 20 && !stopping && (held === undefined || held.body?.code === 'OUTCOME_UNKNOWN'); replay++) {
        await pause(200);
        held = await sendHold();
      }
      if (held?.status === 401) buyer.token = await newToken(url, buyer.userId, concertId);
      if (held?.status !== 201) {
        if (held?.status === 503 || held === undefined) await pause(100);
        continue;
      }
      const reservationId = held.body.reservationId as string;
      if (Math.random() < payShare && (await pay(buyer, scheduleId, seatNo, reservationId))) {
        sold.get(scheduleId)!.add(seatNo);
        buyer.token = await newToken(url, buyer.userId, concertId); // a payment uses the token up
      } else {
        await cancel(buyer, scheduleId, seatNo, reservationId);
      }
    }
  });
  const done = Promise.all(runs).then(() => undefined);
  return {
    answers,
    done,
    async stop() {
      stopping = true;
      await done;
    },
  };
}
