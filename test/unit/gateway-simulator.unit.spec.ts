import { startGatewaySimulator, type GatewaySimulator } from '../../src/payments/gateway-simulator';
import {
  DEFAULT_KNOBS,
  KnobError,
  latencyFor,
  mergeKnobs,
  type SimulatorKnobs,
} from '../../src/payments/gateway-simulator-faults';

const ORDER = { amount: 99_000, currency: 'KRW', reference: 'user-1' };

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

function charge(sim: GatewaySimulator, key: string, body: unknown = ORDER, signal?: AbortSignal): Promise<Answer> {
  return call(`${sim.url}/v1/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: signal ?? null,
  });
}

const byKey = (sim: GatewaySimulator, key: string) => call(`${sim.url}/v1/charges/by-key/${encodeURIComponent(key)}`);
const cancel = (sim: GatewaySimulator, id: string) => call(`${sim.url}/v1/charges/${id}/cancel`, { method: 'POST' });
const putKnobs = (sim: GatewaySimulator, knobs: unknown) =>
  call(`${sim.url}/_control`, { method: 'PUT', body: JSON.stringify(knobs) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the card gateway simulator', () => {
  let sim: GatewaySimulator | undefined;
  const start = async (knobs: Partial<SimulatorKnobs> = {}) => (sim = await startGatewaySimulator({ latencyMs: 0, ...knobs }));
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('when a new charge arrives, then it is approved and recorded under its key', async () => {
    const gateway = await start();
    const answer = await charge(gateway, 'pay-1');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      id: expect.stringMatching(/^ch_\w+$/),
      idempotencyKey: 'pay-1',
      amount: 99_000,
      currency: 'KRW',
      reference: 'user-1',
      status: 'APPROVED',
      createdAt: expect.any(String),
    });
    expect(new Date(String(answer.body.createdAt)).toISOString()).toBe(answer.body.createdAt);
    expect((await byKey(gateway, 'pay-1')).body).toEqual(answer.body);
    expect(gateway.counters()).toMatchObject({ requests: 2, chargesCreated: 1, approved: 1 });
  });

  it('when the same key is replayed with the same order, then the stored charge comes back and no second charge is made', async () => {
    const gateway = await start({ declineRate: 0.5, seed: 3 });
    const first = await charge(gateway, 'pay-1');
    const replays = await Promise.all([1, 2, 3].map(() => charge(gateway, 'pay-1')));
    for (const replay of replays) expect(replay).toMatchObject({ status: 200, body: first.body });
    expect(gateway.charges()).toHaveLength(1);
    expect(gateway.counters()).toMatchObject({ chargesCreated: 1, replays: 3 });
  });

  it('when a key is reused with a different amount or reference, then the answer is 409 idempotency_key_reused', async () => {
    const gateway = await start();
    await charge(gateway, 'pay-1');
    expect(await charge(gateway, 'pay-1', { ...ORDER, amount: 1 })).toMatchObject({
      status: 409,
      body: { error: 'idempotency_key_reused' },
    });
    expect((await charge(gateway, 'pay-1', { ...ORDER, reference: 'user-2' })).status).toBe(409);
    expect(gateway.charges()).toHaveLength(1);
  });

  it('when the key or the order is malformed, then the answer is 400 with the matching error', async () => {
    const gateway = await start();
    const noKey = await call(`${gateway.url}/v1/charges`, { method: 'POST', body: JSON.stringify(ORDER) });
    expect(noKey).toMatchObject({ status: 400, body: { error: 'idempotency_key_required' } });
    expect((await charge(gateway, 'k'.repeat(65))).body).toEqual({ error: 'idempotency_key_required' });
    for (const body of [{ ...ORDER, amount: 0 }, { ...ORDER, amount: 1.5 }, { ...ORDER, currency: 'USD' }, { amount: 1, currency: 'KRW' }, 'not json']) {
      expect(await charge(gateway, 'pay-1', body)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    }
    expect(gateway.charges()).toHaveLength(0);
  });

  it('when declineRate is 1, then new charges are DECLINED with card_declined', async () => {
    const gateway = await start({ declineRate: 1 });
    expect((await charge(gateway, 'pay-1')).body).toMatchObject({ status: 'DECLINED', declineReason: 'card_declined' });
    expect(gateway.counters()).toMatchObject({ chargesCreated: 1, declined: 1, approved: 0 });
  });

  it('when errorRate is 1, then requests get 500 and nothing is recorded', async () => {
    const gateway = await start({ errorRate: 1 });
    expect(await charge(gateway, 'pay-1')).toMatchObject({ status: 500, body: { error: 'internal' } });
    expect(gateway.charges()).toHaveLength(0);
    gateway.setKnobs({ errorRate: 0 });
    expect(await byKey(gateway, 'pay-1')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(gateway.counters().errorsInjected).toBe(1);
  });

  it('when a charge hangs past the client timeout, then the client aborts but a lookup by key shows it was recorded', async () => {
    const gateway = await start({ timeoutRate: 1, hangMs: 300 });
    await expect(charge(gateway, 'pay-1', ORDER, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'TimeoutError' });
    const truth = await byKey(gateway, 'pay-1');
    expect(truth.body).toMatchObject({ idempotencyKey: 'pay-1', status: 'APPROVED' });
    // A retry with the same key is a replay: answered at once with the recorded charge.
    expect((await charge(gateway, 'pay-1', ORDER, AbortSignal.timeout(100))).body).toEqual(truth.body);
    expect(gateway.counters()).toMatchObject({ chargesCreated: 1, timeoutsInjected: 1, replays: 1 });
  });

  it('when a charge is left hanging, then close() still returns at once', async () => {
    const gateway = await start({ timeoutRate: 1 }); // hangMs 30 s by default
    const hanging = charge(gateway, 'pay-1').catch((error: unknown) => error);
    await sleep(100);
    const startedAt = Date.now();
    await gateway.close();
    sim = undefined;
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    // fetch's TypeError comes from Node's realm, not Jest's, so match it by shape.
    expect(await hanging).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  });

  it('when latency is set without jitter, then every answer takes that long', async () => {
    const gateway = await start({ latencyMs: 150 });
    const startedAt = Date.now();
    await charge(gateway, 'pay-1');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
  });

  it('when the gateway is in outage, then every request gets 503 at once, until PUT /_control ends it', async () => {
    const gateway = await start({ outage: true, latencyMs: 500 });
    const startedAt = Date.now();
    expect(await charge(gateway, 'pay-1')).toMatchObject({ status: 503, body: { error: 'unavailable' } });
    expect((await call(`${gateway.url}/health`)).status).toBe(503);
    expect(Date.now() - startedAt).toBeLessThan(400);
    expect(gateway.charges()).toHaveLength(0);

    const control = await putKnobs(gateway, { outage: false, latencyMs: 0 });
    expect(control).toMatchObject({ status: 200, body: { knobs: { outage: false, latencyMs: 0 } } });
    expect(await call(`${gateway.url}/health`)).toMatchObject({ status: 200, body: { ok: true } });
    expect((await charge(gateway, 'pay-1')).status).toBe(200);
    expect((await call(`${gateway.url}/_control`)).body).toMatchObject({
      counters: { requests: 4, outageRejections: 2, chargesCreated: 1 },
    });
  });

  it('when an outage window is in effect, then requests get 503 only inside it, counted from start or reset', async () => {
    const gateway = await start({ outageWindows: [{ startSeconds: 0, endSeconds: 0.3 }] });
    const inside = await charge(gateway, 'pay-1');
    expect(inside).toMatchObject({ status: 503, body: { error: 'unavailable' } });
    expect(inside.headers.get('retry-after')).toBe('1');
    await sleep(350);
    expect((await charge(gateway, 'pay-1')).status).toBe(200);

    await putKnobs(gateway, { outageWindows: [{ startSeconds: 0.2, endSeconds: 60 }] });
    await call(`${gateway.url}/_control/reset`, { method: 'POST' });
    expect(gateway.charges()).toHaveLength(0);
    expect((await charge(gateway, 'pay-2')).status).toBe(200);
    await sleep(250);
    expect((await charge(gateway, 'pay-3')).status).toBe(503);
  });

  it('when an approved charge is cancelled, then it is CANCELLED, idempotently; declined and unknown ones are refused', async () => {
    const gateway = await start();
    const approved = await charge(gateway, 'pay-1');
    const id = String(approved.body.id);
    expect(await cancel(gateway, id)).toMatchObject({ status: 200, body: { id, status: 'CANCELLED' } });
    expect(await cancel(gateway, id)).toMatchObject({ status: 200, body: { id, status: 'CANCELLED' } });
    expect((await byKey(gateway, 'pay-1')).body.status).toBe('CANCELLED');
    expect(gateway.counters().cancelled).toBe(1);

    gateway.setKnobs({ declineRate: 1 });
    const declined = await charge(gateway, 'pay-2');
    expect(await cancel(gateway, String(declined.body.id))).toMatchObject({ status: 409, body: { error: 'not_cancellable' } });
    expect(await cancel(gateway, 'ch_unknown')).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('when two runs share a seed, then they make the same sequence of decisions, and reset replays it', async () => {
    const knobs = { seed: 42, declineRate: 0.4, errorRate: 0.2 };
    const run = async (gateway: GatewaySimulator) => {
      const outcomes: string[] = [];
      for (let n = 0; n < 40; n++) {
        const answer = await charge(gateway, `pay-${n}`);
        outcomes.push(answer.status === 200 ? String(answer.body.status) : String(answer.status));
      }
      return outcomes;
    };
    const first = await run(await start(knobs));
    const other = await startGatewaySimulator({ latencyMs: 0, ...knobs });
    try {
      expect(await run(other)).toEqual(first);
      other.reset();
      expect(await run(other)).toEqual(first);
      other.setKnobs({ seed: 43 });
      other.reset();
      expect(await run(other)).not.toEqual(first);
    } finally {
      await other.close();
    }
    expect(new Set(first)).toEqual(new Set(['APPROVED', 'DECLINED', '500']));
  });

  it('when PUT /_control carries a bad or unknown knob, then it is 400 and nothing changes', async () => {
    const gateway = await start();
    expect(await putKnobs(gateway, { declineRate: 2 })).toMatchObject({
      status: 400,
      body: { error: 'invalid_knobs', message: 'declineRate must be a number between 0 and 1' },
    });
    expect((await putKnobs(gateway, { latency: 5 })).status).toBe(400);
    expect(gateway.knobs()).toEqual({ ...DEFAULT_KNOBS, latencyMs: 0, outageWindows: [] });
  });
});

describe('the simulator fault choices', () => {
  it('when jitter is 0, then the latency is exactly the median; otherwise it stays within median ± jitter', () => {
    const knobs = mergeKnobs(DEFAULT_KNOBS, { latencyMs: 50 });
    expect([0, 0.5, 0.999].map((draw) => latencyFor(knobs, draw))).toEqual([50, 50, 50]);
    const jittery = mergeKnobs(knobs, { latencyJitterMs: 20 });
    expect([0, 0.5, 0.999].map((draw) => latencyFor(jittery, draw))).toEqual([30, 50, 70]);
    expect(latencyFor(mergeKnobs(knobs, { latencyJitterMs: 80 }), 0)).toBe(0);
  });

  it('when a knob is out of range, then mergeKnobs names it', () => {
    expect(() => mergeKnobs(DEFAULT_KNOBS, { hangMs: -1 })).toThrow(new KnobError('hangMs', 'a number of ms >= 0'));
    expect(() => mergeKnobs(DEFAULT_KNOBS, { outageWindows: [{ startSeconds: 5, endSeconds: 5 }] })).toThrow(KnobError);
    expect(() => mergeKnobs(DEFAULT_KNOBS, { seed: 1.5 })).toThrow('seed must be an integer');
  });
});
