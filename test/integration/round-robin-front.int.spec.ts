/**
 * The local cluster's front (scripts/cluster/round-robin-front.ts) against fake instances: turns,
 * what it forwards, and the retry rule — next instance only when the connection could not be made,
 * never once the request's bytes went out.
 */
import http from 'node:http';
import net from 'node:net';
import { startRoundRobinFront, type RoundRobinFront } from '../../scripts/cluster/round-robin-front';
import { freePort } from '../support/server-process';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A fake instance that records what reached it; `behave` may answer differently. */
async function fakeInstance(name: string, behave?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (behave) return behave(req, res, body);
      res.setHeader('x-instance', name);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ instance: name, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function send(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('round-robin front', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const front = async (upstreams: string[]): Promise<RoundRobinFront> => {
    const started = await startRoundRobinFront({ port: 0, upstreams, failTimeoutMs: 0 });
    closers.push(started.close);
    return started;
  };

  it('when requests arrive, then they go to the instances in turn with method, path, headers, body and X-Forwarded-For', async () => {
    const instances = await Promise.all(['a', 'b', 'c'].map((name) => fakeInstance(name)));
    closers.push(...instances.map((i) => i.close));
    const { url } = await front(instances.map((i) => i.url));

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await send(`${url}/v1/things/${i}?q=${i}`, { headers: { 'x-custom': `v${i}` } }));
    expect(answers.map((a) => JSON.parse(a.text).instance)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);

    const posted = await send(`${url}/v1/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(posted.status).toBe(200);
    expect(posted.headers.get('set-cookie')).toBe('a=1, b=2');
    const last = instances[0]!.seen.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/v1/post', body: '{"hello":"world"}' });
    expect(last.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(instances[1]!.seen[0]).toMatchObject({ method: 'GET', url: '/v1/things/1?q=1' });
    expect(instances[1]!.seen[0]!.headers['x-custom']).toBe('v1');
    expect(instances[1]!.seen[0]!.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('when a chunked body is streamed, then the instance receives it whole', async () => {
    const instance = await fakeInstance('a');
    closers.push(instance.close);
    const { url } = await front([instance.url]);
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 50; i++) controller.enqueue(new TextEncoder().encode(`chunk-${i};`));
        controller.close();
      },
    });
    const answer = await send(`${url}/v1/stream`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(answer.status).toBe(200);
    expect(instance.seen[0]!.body).toBe(Array.from({ length: 50 }, (_, i) => `chunk-${i};`).join(''));
  });

  it('when an instance refuses connections, then its requests go to the next one and every request is answered once', async () => {
    const alive = await fakeInstance('alive');
    closers.push(alive.close);
    const dead = `http://127.0.0.1:${await freePort()}`; // nobody listens there
    const { url } = await front([dead, alive.url, dead]);
    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, i) => send(`${url}/v1/post/${i}`, { method: 'POST', body: `body-${i}` })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
    expect(alive.seen.map((s) => s.body).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `body-${i}`).sort());
  });

  it('when no instance accepts, then 503 SERVICE_UNAVAILABLE problem+json with Retry-After', async () => {
    const { url } = await front([`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`]);
    const answer = await send(`${url}/v1/reservations`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(answer.text)).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      detail: 'no instance answered',
    });
  });

  it('when an instance drops the connection after the request was sent, then it is not retried elsewhere and the answer is 503 OUTCOME_UNKNOWN', async () => {
    const dropper = await fakeInstance('dropper', (req) => req.socket.destroy());
    const other = await fakeInstance('other');
    closers.push(dropper.close, other.close);
    const { url } = await front([dropper.url, other.url]);
    const answer = await send(`${url}/v1/payments`, { method: 'POST', body: 'pay once' });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(answer.text).code).toBe('OUTCOME_UNKNOWN');
    expect(dropper.seen).toHaveLength(1);
    expect(other.seen).toHaveLength(0);
  });

  it('when an instance answers any status, then the front passes it through untouched', async () => {
    const instance = await fakeInstance('a', (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '2' });
      res.end('{"code":"SERVICE_UNAVAILABLE"}');
    });
    const other = await fakeInstance('b');
    closers.push(instance.close, other.close);
    const { url } = await front([instance.url, other.url]);
    const answer = await send(`${url}/x`);
    expect([answer.status, answer.headers.get('retry-after'), answer.text]).toEqual([503, '2', '{"code":"SERVICE_UNAVAILABLE"}']);
    expect(other.seen).toHaveLength(0); // an answer, even a 503, is never retried by the front
  });
});
