/**
 * The fault-injection tools really do what fault tests rely on: the TCP proxy hangs and resets
 * real PostgreSQL connections, the private PostgreSQL keeps committed data across a restart and
 * a crash, and the private Redis comes back empty on the same URL after a crash.
 */
import { readFile } from 'node:fs/promises';
import Redis from 'ioredis';
import { Client } from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { ADMIN_URL } from '../support/test-database';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to 'pending' if `promise` has not settled within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<'pending' | { value: T } | { error: unknown }> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    sleep(ms).then(() => 'pending' as const),
  ]);
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined); // asserted through the failing query instead
  await client.connect();
  return client;
}

describe('tcp proxy in front of the shared PostgreSQL', () => {
  let proxy: TcpProxy;
  const clients: Client[] = [];

  beforeEach(async () => {
    const admin = new URL(ADMIN_URL);
    proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
    await proxy.close();
  });

  async function clientThroughProxy(): Promise<Client> {
    const client = await connect(proxy.urlFor(ADMIN_URL));
    clients.push(client);
    return client;
  }

  it('forwards a connection: SELECT 1 works and the connection is counted', async () => {
    const client = await clientThroughProxy();
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    expect(proxy.connections).toBe(1);
    expect(proxy.totalConnections).toBe(1);
    expect(proxy.stats()).toMatchObject({ cut: false, refusing: false });
    expect(proxy.stats().bytesToTarget).toBeGreaterThan(0);
    expect(proxy.stats().bytesToClients).toBeGreaterThan(0);
  });

  it('after cut() a query hangs without an error, and after heal() it completes', async () => {
    const client = await clientThroughProxy();
    proxy.cut();
    const query = client.query<{ answer: number }>('SELECT 42 AS answer');
    expect(await settledWithin(query, 1_000)).toBe('pending');
    proxy.heal();
    expect((await query).rows).toEqual([{ answer: 42 }]);
  });

  it('a connection opened during a cut hangs, and completes after heal()', async () => {
    proxy.cut();
    const client = new Client({ connectionString: proxy.urlFor(ADMIN_URL) });
    client.on('error', () => undefined);
    clients.push(client);
    const connecting = client.connect();
    expect(await settledWithin(connecting, 500)).toBe('pending');
    expect(proxy.connections).toBe(1);
    proxy.heal();
    await connecting;
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('cut({ dropOnHeal: true }): the connection is reset at heal, new connections work', async () => {
    const client = await clientThroughProxy();
    proxy.cut({ dropOnHeal: true });
    const query = client.query('SELECT 1');
    expect(await settledWithin(query, 300)).toBe('pending');
    proxy.heal();
    await expect(query).rejects.toThrow(/ECONNRESET|Connection terminated/);
    const again = await clientThroughProxy();
    expect((await again.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('resetAll() makes the client fail with ECONNRESET or "Connection terminated"', async () => {
    const client = await clientThroughProxy();
    const query = client.query('SELECT pg_sleep(5)');
    await sleep(100);
    proxy.resetAll();
    await expect(query).rejects.toThrow(/ECONNRESET|Connection terminated/);
    expect(proxy.stats().resetConnections).toBe(1);
  });

  it('refuse(true) closes new connections at once; refuse(false) lets them through again', async () => {
    proxy.refuse(true);
    await expect(connect(proxy.urlFor(ADMIN_URL))).rejects.toThrow(/Connection terminated|ECONNRESET/);
    expect(proxy.stats()).toMatchObject({ refusedConnections: 1, totalConnections: 0 });
    proxy.refuse(false);
    const client = await clientThroughProxy();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('private PostgreSQL', () => {
  let pg: PrivatePostgres | undefined;

  afterAll(async () => {
    await pg?.remove();
  });

  it('starts, keeps data over restart(), and recovers committed data after kill() + start()', async () => {
    pg = await startPrivatePostgres();
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(pg.port).not.toBe(5432);

    let client = await connect(pg.url);
    await client.query('CREATE TABLE t (id int PRIMARY KEY)');
    await client.query('INSERT INTO t VALUES (1)');
    await client.end();

    await pg.restart();
    client = await connect(pg.url);
    expect((await client.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }]);
    await client.query('INSERT INTO t VALUES (2)'); // committed (autocommit) just before the crash
    const open = await connect(pg.url);
    await open.query('BEGIN');
    await open.query('INSERT INTO t VALUES (3)'); // never committed

    await pg.kill();
    expect(pg.running).toBe(false);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await client.end().catch(() => undefined);
    await open.end().catch(() => undefined);

    await pg.start();
    client = await connect(pg.url);
    try {
      expect((await client.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await client.end();
    }
    expect(await readFile(pg.logFile, 'utf8')).toMatch(/not properly shut down|automatic recovery in progress/);
  });
});

describe('private Redis', () => {
  let redis: PrivateRedis | undefined;
  let client: Redis | undefined;

  afterAll(async () => {
    client?.disconnect();
    await redis?.remove();
  });

  it('loses its data after kill() + start(), and a client on the same URL works again', async () => {
    redis = await startPrivateRedis();
    expect(redis.port).not.toBe(6379);
    client = new Redis(redis.url, { retryStrategy: () => 50 });
    client.on('error', () => undefined); // reconnects on its own
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    const before = redis.pid;

    await redis.kill();
    expect(redis.running).toBe(false);
    await redis.start();
    expect(redis.pid).not.toBe(before);

    expect(await client.get('k')).toBeNull();
    await client.set('k', 'w');
    expect(await client.get('k')).toBe('w');

    await redis.stop();
    await redis.start();
    expect(await client.get('k')).toBeNull();
  });
});
