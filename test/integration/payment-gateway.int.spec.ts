/**
 * Charges through a real HTTP card gateway (the simulator, over the network) behind cockatiel:
 * approval, decline, outage with the breaker, bulkhead, timeouts reconciled with the same key.
 * Every fault test checks the simulator's counters, so it proves the fault really happened.
 */
import { randomUUID } from 'node:crypto';
import { startGatewaySimulator, type GatewaySimulator } from '../../src/payments/gateway-simulator';
import { HttpGateway } from '../../src/payments/http-gateway';
import { act } from '../support/api-client';
import { eventually } from '../support/eventually';
import { startTestApp, type TestApp } from '../support/test-app';

const chargeRequest = (userId: string, key: string, amount: number) => ({
  method: 'POST' as const,
  url: `/v1/users/${userId}/balance/charges`,
  headers: { 'idempotency-key': key },
  body: { amount },
});
const balanceOf = async (t: TestApp, userId: string) =>
  (await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance as number;
const chargeStatus = async (t: TestApp, userId: string, chargeId: string) =>
  (await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance/charges/${chargeId}` })).body;
const ledgerRows = async (t: TestApp, chargeId: string) =>
  (await t.services.db.query(`SELECT 1 FROM balance_ledger WHERE kind = 'CHARGE' AND ref_id = $1`, [chargeId])).rowCount;

describe('charges through the payment gateway', () => {
  let sim: GatewaySimulator;
  let t: TestApp;

  const boot = async (env: Record<string, string> = {}) => {
    t = await startTestApp({
      PAYMENT_GATEWAY_URL: sim.url,
      PAYMENT_GATEWAY_TIMEOUT_MS: '300',
      PAYMENT_GATEWAY_RETRIES: '0',
      CHARGE_RECONCILE_INTERVAL_MS: '100',
      ...env,
    });
  };

  beforeEach(async () => {
    sim = await startGatewaySimulator({ port: 0, latencyMs: 5 });
  });
  afterEach(async () => {
    await t?.close();
    await sim.close();
  });

  it('when the gateway approves, then the charge is APPROVED, credited once, and the gateway saw our charge id as its key', async () => {
    await boot();
    const userId = randomUUID();
    const response = await act(t.app, chargeRequest(userId, 'k1', 7_000));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ userId, balance: 7_000, status: 'APPROVED' });
    expect(await chargeStatus(t, userId, response.body.chargeId)).toMatchObject({ status: 'APPROVED', amount: 7_000 });
    expect(sim.charges().map((c) => c.idempotencyKey)).toEqual([response.body.chargeId]);
    const replay = await act(t.app, chargeRequest(userId, 'k1', 7_000));
    expect(replay.body).toEqual(response.body);
    expect(sim.charges()).toHaveLength(1);
  });

  it('when the gateway declines, then 402 PAYMENT_DECLINED, no money moves, and a replay declines again without a second gateway charge', async () => {
    sim.setKnobs({ declineRate: 1 });
    await boot();
    const userId = randomUUID();
    const declined = await act(t.app, chargeRequest(userId, 'k1', 5_000));
    expect(declined.status).toBe(402);
    expect(declined.body.code).toBe('PAYMENT_DECLINED');
    expect(await balanceOf(t, userId)).toBe(0);
    expect((await act(t.app, chargeRequest(userId, 'k1', 5_000))).body.code).toBe('PAYMENT_DECLINED');
    expect(sim.counters().declined).toBe(1);
    expect(await chargeStatus(t, userId, declined.body.chargeId)).toMatchObject({ status: 'DECLINED' });
  });

  it('when the gateway is down, then the breaker opens after the configured failures, later charges fail fast with 503 without reaching it, and it closes after recovery', async () => {
    await boot({ PAYMENT_BREAKER_MIN_CALLS: '4', PAYMENT_BREAKER_FAILURE_RATE: '0.5', PAYMENT_BREAKER_HALF_OPEN_AFTER_MS: '1000' });
    const userId = randomUUID();
    sim.setKnobs({ outage: true });

    for (let i = 0; i < 4; i += 1) {
      const failed = await act(t.app, chargeRequest(userId, `down-${i}`, 1_000));
      expect([failed.status, failed.body.code]).toEqual([503, 'PAYMENT_GATEWAY_UNAVAILABLE']);
    }
    expect(sim.counters().outageRejections).toBe(4);
    expect(t.services.gateway.state).toBe('open');

    const started = performance.now();
    const fast = await act(t.app, chargeRequest(userId, 'while-open', 1_000));
    const elapsedMs = performance.now() - started;
    expect([fast.status, fast.body.code]).toEqual([503, 'PAYMENT_GATEWAY_UNAVAILABLE']);
    expect(Number(fast.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(elapsedMs).toBeLessThan(250); // no gateway attempt (300 ms timeout here); the counter below proves none was made
    expect(sim.counters().requests).toBe(4); // the open breaker answered without calling the gateway
    expect(await balanceOf(t, userId)).toBe(0);
    const scrape = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(scrape.body).toMatch(/ovation_breaker_state\{breaker="payment_gateway"\} 2/);

    sim.setKnobs({ outage: false });
    // After halfOpenAfter one probe goes through; its success closes the breaker.
    const recovered = await eventually(async () => {
      const response = await act(t.app, chargeRequest(userId, `after-${randomUUID()}`, 1_000));
      return response.status === 200 ? response : undefined;
    }, { timeoutMs: 5_000, intervalMs: 200 });
    expect(recovered?.body.balance).toBe(1_000);
    expect(t.services.gateway.state).toBe('closed');
    // The key refused while the breaker was open was not used up: it charges now.
    expect((await act(t.app, chargeRequest(userId, 'while-open', 1_000))).status).toBe(200);
    expect(await balanceOf(t, userId)).toBe(2_000);
  });

  it('when more charges arrive than the bulkhead admits, then the extra ones get 503 at once and nothing is charged for them', async () => {
    sim.setKnobs({ latencyMs: 400 });
    await boot({ PAYMENT_GATEWAY_CONCURRENCY: '1', PAYMENT_GATEWAY_QUEUE: '0', PAYMENT_GATEWAY_TIMEOUT_MS: '2000' });
    const userId = randomUUID();
    const [first, second] = await Promise.all([
      act(t.app, chargeRequest(userId, 'a', 1_000)),
      act(t.app, chargeRequest(userId, 'b', 1_000)),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 503]);
    expect([first, second].find((r) => r.status === 503)!.body.code).toBe('PAYMENT_GATEWAY_UNAVAILABLE');
    expect(sim.counters().chargesCreated).toBe(1);
    expect(await balanceOf(t, userId)).toBe(1_000);
  });

  it.each([
    ['APPROVED', 0, 4_000],
    ['DECLINED', 1, 0],
  ] as const)(
    'when the gateway times out, then 202 PENDING, and the reconciler settles it %s with the same key (credited at most once)',
    async (expected, declineRate, balance) => {
      sim.setKnobs({ timeoutRate: 1, hangMs: 5_000, declineRate });
      await boot();
      const userId = randomUUID();
      const pending = await act(t.app, chargeRequest(userId, 'slow', 4_000));
      expect(pending.status).toBe(202);
      expect(pending.body).toMatchObject({ status: 'PENDING', balance: 0 });
      expect(sim.counters().timeoutsInjected).toBe(1);
      sim.setKnobs({ timeoutRate: 0 });

      const settled = await eventually(async () => {
        const status = await chargeStatus(t, userId, pending.body.chargeId);
        return status.status === expected ? status : undefined;
      });
      expect(settled.settledAt).not.toBeNull();
      expect(await balanceOf(t, userId)).toBe(balance);
      expect(await ledgerRows(t, pending.body.chargeId)).toBe(expected === 'APPROVED' ? 1 : 0);
      expect(sim.charges()).toHaveLength(1);
      const replay = await act(t.app, chargeRequest(userId, 'slow', 4_000));
      expect(replay.status).toBe(expected === 'APPROVED' ? 200 : 402);
    },
  );

  it('when a charge is unknown to the gateway, then lookup says so; an approved one can be cancelled', async () => {
    const gateway = new HttpGateway(sim.url);
    expect(await gateway.lookup(randomUUID())).toBeUndefined();
    const chargeId = randomUUID();
    const approved = await gateway.charge({ chargeId, userId: randomUUID(), amount: 100 });
    expect(approved.status).toBe('APPROVED');
    await gateway.cancel(approved.gatewayRef);
    expect(await gateway.lookup(chargeId)).toMatchObject({ status: 'DECLINED', reason: 'cancelled' });
  });
});
