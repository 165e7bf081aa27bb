/**
 * A crash between the gateway's approval and our credit: the server is SIGKILLed while the
 * gateway has approved the charge but its answer has not arrived. After a restart the reconciler
 * asks the gateway with the same key and credits the charge exactly once.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { startGatewaySimulator, type GatewaySimulator } from '../../src/payments/gateway-simulator';
import { eventually } from '../support/eventually';
import { startServer, type ServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('crash between gateway approval and credit', () => {
  let database: TestDatabase;
  let sim: GatewaySimulator;
  let server: ServerProcess | undefined;
  let db: Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Pool({ connectionString: database.url, max: 2 });
    sim = await startGatewaySimulator({ port: 0, latencyMs: 1 });
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await db.end();
    await sim.close();
    await database.drop();
  });

  it('when the server dies after the gateway approved, then after restart the charge is credited exactly once and a replay returns it', async () => {
    const env = {
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      PAYMENT_GATEWAY_URL: sim.url,
      PAYMENT_GATEWAY_TIMEOUT_MS: '1500',
      PAYMENT_GATEWAY_RETRIES: '0',
      CHARGE_RECONCILE_INTERVAL_MS: '200',
    };
    server = await startServer(env);
    // The gateway records the approval but holds its answer back: the server is still waiting when it dies.
    sim.setKnobs({ timeoutRate: 1, hangMs: 60_000 });
    const userId = randomUUID();
    const key = randomUUID();
    const request = fetch(`${server.url}/v1/users/${userId}/balance/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ amount: 12_345 }),
    }).catch(() => 'connection lost' as const);
    await eventually(() => sim.counters().approved === 1);
    await server.kill('SIGKILL');
    expect(await request).toBe('connection lost');

    const stranded = await db.query(`SELECT id, status FROM charges WHERE user_id = $1`, [userId]);
    expect(stranded.rows).toEqual([{ id: sim.charges()[0]!.idempotencyKey, status: 'PENDING' }]);
    expect((await db.query(`SELECT 1 FROM balances WHERE user_id = $1`, [userId])).rowCount).toBe(0);

    sim.setKnobs({ timeoutRate: 0 });
    server = await startServer(env);
    const credited = await eventually(
      async () => {
        const { rows } = await db.query<{ balance: number }>(`SELECT balance::int AS balance FROM balances WHERE user_id = $1`, [userId]);
        return rows[0];
      },
      { timeoutMs: 20_000 },
    );
    expect(credited.balance).toBe(12_345);
    const ledger = await db.query(`SELECT delta::int AS delta FROM balance_ledger WHERE user_id = $1`, [userId]);
    expect(ledger.rows).toEqual([{ delta: 12_345 }]);
    expect(sim.charges()).toHaveLength(1);

    const replay = await fetch(`${server.url}/v1/users/${userId}/balance/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ amount: 12_345 }),
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ userId, balance: 12_345, chargeId: stranded.rows[0].id, status: 'APPROVED' });
  });
});
