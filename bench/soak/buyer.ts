/**
 * One buyer, a closed loop with think time: take a queue token and poll it until ACTIVE, look at
 * the schedules and a seat map, hold one or two seats, then cancel (20 %), walk away and let the
 * hold expire (10 %) or pay (70 %, topping the balance up with a card charge first when needed).
 *
 * Retries follow the documented protocol: every write carries its own Idempotency-Key; after 503
 * OUTCOME_UNKNOWN or no answer the same key is replayed to learn the truth; after 503
 * SERVICE_UNAVAILABLE a hold or cancel is replayed with the same key only sometimes (best effort),
 * a payment always; a charge refused with 503 PAYMENT_GATEWAY_UNAVAILABLE is retried with its key
 * (the key is free). A token lost with Redis (401) is issued again and the request replayed.
 */
import { randomUUID } from 'node:crypto';
import type { Reply, SoakClient } from './client';
import type { Rng } from './rng';

export interface ScheduleInfo {
  scheduleId: string;
  seatCount: number;
  price: number;
}

export interface ConcertInfo {
  concertId: string;
  schedules: ScheduleInfo[];
}

interface Held {
  reservationId: string;
  scheduleId: string;
  amount: number;
}

export interface BuyerCounters {
  cycles: number;
  holds: number;
  cancels: number;
  abandoned: number;
  payments: number;
  charges: number;
  unexpected: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
/** How long to wait before retrying after `reply` (Retry-After when given). */
const backoff = (reply: Reply, min = 300, max = 2_000): number => clamp(reply.retryAfterMs || min, min, max);
const isUnknown = (reply: Reply): boolean => reply.status === 0 || reply.code === 'OUTCOME_UNKNOWN';

export class Buyer {
  readonly userId = randomUUID();
  readonly counters: BuyerCounters = { cycles: 0, holds: 0, cancels: 0, abandoned: 0, payments: 0, charges: 0, unexpected: 0 };
  private token: string | undefined;
  private active = false;

  constructor(
    private readonly client: SoakClient,
    private readonly catalogue: readonly ConcertInfo[],
    private concert: ConcertInfo,
    private readonly rng: Rng,
    private readonly stopping: () => boolean,
  ) {}

  async run(): Promise<void> {
    await sleep(this.rng.int(0, 2_000)); // spread the start
    while (!this.stopping()) {
      try {
        await this.cycle();
      } catch (error) {
        this.counters.unexpected++;
        if (this.counters.unexpected <= 3) console.error(`buyer ${this.userId}: ${(error as Error).stack ?? String(error)}`);
        await sleep(1_000);
      }
      await sleep(this.rng.int(2_000, 4_000));
    }
  }

  private async cycle(): Promise<void> {
    this.counters.cycles++;
    if (!(await this.ensureActive())) return;
    if (this.rng.chance(0.03)) await this.get('concerts', 'GET /v1/concerts', '/v1/concerts');
    if (this.rng.chance(0.15)) {
      await this.get('schedules', 'GET /v1/concerts/:id/schedules', `/v1/concerts/${this.concert.concertId}/schedules`);
    }
    if (this.rng.chance(0.05)) await this.get('my-reservations', 'GET /v1/users/:id/reservations', `/v1/users/${this.userId}/reservations`);
    const schedule = this.rng.pick(this.concert.schedules);
    const held = await this.hold(schedule);
    if (!held) return;
    await sleep(this.rng.int(100, 600));
    const fate = this.rng.next();
    if (fate < 0.2) await this.cancel(held);
    else if (fate < 0.3) this.counters.abandoned++; // left to expire
    else await this.pay(held);
  }

  private get(op: 'concerts' | 'schedules' | 'my-reservations' | 'seat-map' | 'balance', route: string, path: string): Promise<Reply> {
    return this.client.call({ op, route, method: 'GET', path, userId: this.userId });
  }

  private dropToken(): void {
    this.token = undefined;
    this.active = false;
  }

  /** A token for the buyer's concert (issued if missing), whatever its status. */
  private async ensureToken(): Promise<boolean> {
    while (!this.token) {
      if (this.stopping()) return false;
      const reply = await this.client.call({
        op: 'token-issue',
        route: 'POST /v1/queue/tokens',
        method: 'POST',
        path: '/v1/queue/tokens',
        userId: this.userId,
        body: { userId: this.userId, concertId: this.concert.concertId },
      });
      if (reply.status === 200 || reply.status === 201) {
        this.token = reply.body.token as string;
        this.active = reply.body.status === 'ACTIVE';
      } else {
        await sleep(backoff(reply, 500, 5_000));
      }
    }
    return true;
  }

  /** A token that is ACTIVE: issued if missing, polled every second while WAITING (bounded). */
  private async ensureActive(): Promise<boolean> {
    const deadline = Date.now() + 90_000;
    // Now and then, look even when we believe it is ACTIVE (the poll route, and its TTL).
    let mustPoll = this.token !== undefined && this.rng.chance(0.3);
    for (;;) {
      if (!(await this.ensureToken())) return false;
      if (this.active && !mustPoll) return true;
      if (!this.active) await sleep(1_000);
      if (this.stopping() || Date.now() > deadline) return false;
      mustPoll = false;
      const reply = await this.client.call({
        op: 'token-poll',
        route: 'GET /v1/queue/tokens/current',
        method: 'GET',
        path: '/v1/queue/tokens/current',
        userId: this.userId,
        token: this.token,
      });
      if (reply.status === 200) this.active = reply.body.status === 'ACTIVE';
      else if (reply.status === 401) this.dropToken();
      else await sleep(backoff(reply, 500, 3_000));
    }
  }

  private async hold(schedule: ScheduleInfo): Promise<Held | undefined> {
    const map = await this.get('seat-map', 'GET /v1/schedules/:id/seats', `/v1/schedules/${schedule.scheduleId}/seats`);
    if (map.status !== 200) {
      await sleep(backoff(map));
      return undefined;
    }
    const available = (map.body.seats as { seatNo: number; status: string }[]).filter((s) => s.status === 'AVAILABLE').map((s) => s.seatNo);
    if (available.length === 0) {
      this.moveOn();
      return undefined;
    }
    // Most buyers want the best seats: some contention on the first ones still free.
    const seatNos = this.rng.sample(available.slice(0, 20), this.rng.chance(0.3) ? 2 : 1).sort((a, b) => a - b);
    const key = randomUUID();
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (!this.active && !(await this.ensureActive())) return undefined;
      const reply = await this.client.call({
        op: 'hold',
        route: 'POST /v1/reservations',
        method: 'POST',
        path: '/v1/reservations',
        userId: this.userId,
        body: { scheduleId: schedule.scheduleId, seatNos },
        token: this.token,
        key,
        attempt,
      });
      if (reply.status === 201) {
        this.counters.holds++;
        return { reservationId: reply.body.reservationId as string, scheduleId: schedule.scheduleId, amount: Number(reply.body.amount) };
      }
      if (reply.status === 401) this.dropToken(); // Redis lost it, or its TTL ended: a new one, same key
      else if (reply.status === 403 && reply.code === 'TOKEN_NOT_ACTIVE') this.active = false;
      else if (reply.status === 429) await sleep(backoff(reply, 1_000, 5_000));
      else if (reply.status === 422 && reply.code === 'LIMIT_EXCEEDED') return void (await this.releaseHolds(schedule.scheduleId));
      else if (isUnknown(reply)) await sleep(this.rng.int(500, 1_000));
      else if (reply.status === 503 && reply.code === 'SERVICE_UNAVAILABLE' && this.rng.chance(0.5)) await sleep(backoff(reply));
      else return undefined;
      if (this.stopping() && !isUnknown(reply)) return undefined;
    }
    return undefined;
  }

  /** After 422 LIMIT_EXCEEDED (holds we walked away from): cancel our live holds on the schedule. */
  private async releaseHolds(scheduleId: string): Promise<void> {
    const list = await this.get('my-reservations', 'GET /v1/users/:id/reservations', `/v1/users/${this.userId}/reservations`);
    if (list.status !== 200) return;
    for (const r of list.body.reservations as { reservationId: string; scheduleId: string; status: string; amount: number }[]) {
      if (r.status === 'HELD' && r.scheduleId === scheduleId) await this.cancel({ reservationId: r.reservationId, scheduleId, amount: r.amount });
    }
  }

  private async cancel(held: Held): Promise<void> {
    const key = randomUUID();
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (!(await this.ensureToken())) return;
      const reply = await this.client.call({
        op: 'cancel',
        route: 'DELETE /v1/reservations/:id',
        method: 'DELETE',
        path: `/v1/reservations/${held.reservationId}`,
        userId: this.userId,
        token: this.token,
        key,
        attempt,
        reservationId: held.reservationId,
      });
      if (reply.status === 200) {
        this.counters.cancels++;
        return;
      }
      if (reply.status === 401) this.dropToken();
      else if (isUnknown(reply)) await sleep(this.rng.int(500, 1_000));
      else if (reply.status === 503 && this.rng.chance(0.5)) await sleep(backoff(reply));
      else return;
      if (this.stopping() && !isUnknown(reply)) return;
    }
  }

  /** Balance top-up through the card gateway; true once the charge is APPROVED. */
  private async charge(amount: number): Promise<boolean> {
    const key = randomUUID();
    for (let attempt = 1; attempt <= 6; attempt++) {
      const reply = await this.client.call({
        op: 'charge',
        route: 'POST /v1/users/:id/balance/charges',
        method: 'POST',
        path: `/v1/users/${this.userId}/balance/charges`,
        userId: this.userId,
        body: { amount },
        key,
        attempt,
      });
      if (reply.status === 200) {
        this.counters.charges++;
        return true;
      }
      if (reply.status === 202) return this.awaitCharge(reply.body.chargeId as string);
      if (reply.status === 0 || reply.status === 503) await sleep(backoff(reply, 300, 3_000));
      else return false; // 402 declined (a new key next time), anything else
      if (this.stopping()) return false;
    }
    return false;
  }

  /** A 202 PENDING charge: its status until settled (bounded). */
  private async awaitCharge(chargeId: string): Promise<boolean> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !this.stopping()) {
      await sleep(1_000);
      const reply = await this.client.call({
        op: 'charge-status',
        route: 'GET /v1/users/:id/balance/charges/:id',
        method: 'GET',
        path: `/v1/users/${this.userId}/balance/charges/${chargeId}`,
        userId: this.userId,
      });
      if (reply.status === 200 && reply.body.status !== 'PENDING') return reply.body.status === 'APPROVED';
    }
    return false;
  }

  private async pay(held: Held): Promise<void> {
    const balance = await this.get('balance', 'GET /v1/users/:id/balance', `/v1/users/${this.userId}/balance`);
    if (balance.status === 200 && Number(balance.body.balance) < held.amount) await this.charge(held.amount * this.rng.int(1, 3));
    const key = randomUUID();
    let topUps = 0;
    for (let attempt = 1; attempt <= 8; attempt++) {
      if (!this.active && !(await this.ensureActive())) return;
      const reply = await this.client.call({
        op: 'pay',
        route: 'POST /v1/payments',
        method: 'POST',
        path: '/v1/payments',
        userId: this.userId,
        body: { reservationId: held.reservationId },
        token: this.token,
        key,
        attempt,
        reservationId: held.reservationId,
      });
      if (reply.status === 201) {
        this.counters.payments++;
        this.dropToken(); // a payment ends its token
        if (this.rng.chance(0.2)) this.concert = this.rng.pick(this.catalogue);
        return;
      }
      if (reply.status === 402 && reply.code === 'INSUFFICIENT_BALANCE' && topUps++ < 1) await this.charge(held.amount * 2);
      else if (reply.status === 401) this.dropToken();
      else if (reply.status === 403 && reply.code === 'TOKEN_NOT_ACTIVE') this.active = false;
      else if (reply.status === 0 || reply.status === 503) await sleep(backoff(reply));
      else return; // 409 expired or not held, 402 again, anything else
      if (this.stopping() && !isUnknown(reply)) return;
    }
  }

  /** Sold out here: another concert (a new token there). */
  private moveOn(): void {
    const others = this.catalogue.filter((c) => c.concertId !== this.concert.concertId);
    if (others.length === 0) return;
    this.concert = this.rng.pick(others);
    this.dropToken();
  }
}
