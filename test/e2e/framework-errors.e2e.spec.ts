/**
 * Errors the HTTP stack raises by itself — the router (malformed URL, over-long parameter, no
 * route), the body parser (too large, wrong media type, not JSON), Node's HTTP parser (malformed
 * request, headers too large, missing Host, Expect, CONNECT) and shutdown — are problem+json with
 * a stable `code` like every other error (api.md, second wave, "Errors and outcomes").
 *
 * This layer sits in front of the engine, so one engine is enough. What `inject` cannot express
 * (bytes Node's parser rejects, a raw request line, headers over Node's limit) goes over a real
 * socket to the listening app.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';
import { act, createConcert, type Response } from '../support/api-client';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any;
}

/** Sends `bytes` on a fresh connection and reads the one response until the server closes it. */
function rawRequest(port: number, bytes: string | Buffer, options: { endAfterWrite?: boolean; onSocket?: (s: Socket) => void } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5_000);
    socket.on('connect', () => {
      options.onSocket?.(socket);
      socket.write(bytes);
      if (options.endAfterWrite) socket.end();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the answer arrived is fine: the answer is what is judged.
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parseResponse(raw: string): RawResponse {
  raw = raw.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, ''); // interim answers (100 Continue)
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP response: ${JSON.stringify(raw.slice(0, 200))}`);
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const text = raw.slice(end + 4);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status, headers, text, body };
}

const PROBLEM = /^application\/problem\+json/;

function expectProblem(response: Pick<Response, 'status' | 'headers' | 'body'> | RawResponse, status: number, code: string): void {
  expect({ status: response.status, contentType: response.headers['content-type'], code: response.body?.code }).toEqual({
    status,
    contentType: expect.stringMatching(PROBLEM),
    code,
  });
  expect(response.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
}

const get = (path: string, extraHeaders = '') =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extraHeaders}Connection: close\r\n\r\n`;

describe('errors raised by the HTTP framework itself are problem+json with a stable code', () => {
  let t: TestApp;
  let port: number;
  let scheduleId: string;

  beforeAll(async () => {
    t = await startTestApp();
    scheduleId = (await createConcert(t.app, { seatCount: 5 })).schedules[0]!.scheduleId;
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(address).port);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** inject with any method and a raw payload (act() covers GET/POST/DELETE only). */
  const send = async (method: string, url: string, payload?: string | Buffer, headers: Record<string, string> = {}) => {
    const response = await t.app.inject({ method: method as 'GET', url, payload, headers });
    let body: any;
    try {
      body = response.body === '' ? undefined : JSON.parse(response.body);
    } catch {
      body = response.body;
    }
    return { status: response.statusCode, headers: response.headers as Record<string, string>, body };
  };

  describe('the router', () => {
    it('when a path has a malformed percent-encoding, then 400 VALIDATION_FAILED (inject)', async () => {
      const response = await act(t.app, { method: 'GET', url: '/v1/schedules/%zz/seats' });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.detail).toMatch(/URL/);
    });

    it('when a raw request line carries a malformed percent-encoding, then 400 VALIDATION_FAILED', async () => {
      expectProblem(await rawRequest(port, get('/v1/schedules/%zz/seats')), 400, 'VALIDATION_FAILED');
      expectProblem(await rawRequest(port, get('/v1/users/%E0%A4%A/balance')), 400, 'VALIDATION_FAILED');
    });

    it('when an absolute-form target is malformed, then 400 VALIDATION_FAILED', async () => {
      expectProblem(await rawRequest(port, get('http://localhost/v1/%zz')), 400, 'VALIDATION_FAILED');
    });

    it('when a path parameter is longer than maxParamLength (100), then 400 VALIDATION_FAILED, not 404 or 414', async () => {
      const long = 'a'.repeat(101);
      for (const url of [`/v1/schedules/${long}/seats`, `/v1/users/${long}/balance`, `/v1/users/${randomUUID()}/balance/charges/${long}`]) {
        const response = await act(t.app, { method: 'GET', url });
        expectProblem(response, 400, 'VALIDATION_FAILED');
        expect(response.body.detail).toMatch(/too long/);
      }
      expectProblem(await rawRequest(port, get(`/v1/reservations/${'9'.repeat(5000)}`).replace('GET', 'DELETE')), 400, 'VALIDATION_FAILED');
    });

    it('when a path parameter is not a UUID but within the length limit, then 400 VALIDATION_FAILED from the schema', async () => {
      expectProblem(await act(t.app, { method: 'GET', url: `/v1/schedules/${'a'.repeat(100)}/seats` }), 400, 'VALIDATION_FAILED');
    });

    it('when an id carries a urn:uuid: prefix (ajv-formats accepts it, PostgreSQL does not), then 400, not 500', async () => {
      const urn = `urn:uuid:${randomUUID()}`;
      expectProblem(await act(t.app, { method: 'GET', url: `/v1/users/${urn}/balance` }), 400, 'VALIDATION_FAILED');
      expectProblem(await act(t.app, { method: 'GET', url: `/v1/schedules/${urn}/seats` }), 400, 'VALIDATION_FAILED');
      expectProblem(await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: urn, concertId: randomUUID() } }), 400, 'VALIDATION_FAILED');
    });

    it('when no route matches, then 404 NOT_FOUND', async () => {
      expectProblem(await act(t.app, { method: 'GET', url: '/v1/nothing/here' }), 404, 'NOT_FOUND');
      expectProblem(await act(t.app, { method: 'GET', url: '/v1/concerts/' }), 404, 'NOT_FOUND');
    });

    it.each([
      ['PUT', '/v1/concerts'],
      ['PATCH', '/v1/reservations'],
      ['DELETE', '/v1/concerts'],
      ['POST', `/v1/schedules/${randomUUID()}/seats`],
      ['GET', '/v1/payments'],
      ['OPTIONS', '/v1/queue/tokens'],
      ['TRACE', '/health/live'],
    ])('when the method is wrong for a known path (%s %s), then 404 NOT_FOUND', async (method, url) => {
      expectProblem(await send(method, url), 404, 'NOT_FOUND');
    });

    it('when a query string is sent to a route that takes none, then it is ignored (2xx)', async () => {
      const plain = await act(t.app, { method: 'GET', url: '/v1/concerts?x=1&y[]=2&__proto__[a]=1' });
      expect(plain.status).toBe(200);
      const raw = await rawRequest(port, get(`/v1/schedules/${scheduleId}/seats?%zz=%&a=%E0%A4%A`));
      expect(raw.status).toBe(200);
      expect(raw.body.seats).toHaveLength(5);
    });

    it('when the client accepts only text/html, then the JSON answer (and a problem) comes anyway, never a 5xx', async () => {
      const ok = await act(t.app, { method: 'GET', url: '/v1/concerts', headers: { accept: 'text/html' } });
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^application\/json/);
      expectProblem(await act(t.app, { method: 'GET', url: '/v1/users/x/balance', headers: { accept: 'text/html' } }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('the body parser', () => {
    const tokens = '/v1/queue/tokens';

    it('when the body is over 1 MiB, then 413 PAYLOAD_TOO_LARGE', async () => {
      const huge = JSON.stringify({ userId: 'x'.repeat(1024 * 1024), concertId: randomUUID() });
      expectProblem(await send('POST', tokens, huge, { 'content-type': 'application/json' }), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('when Content-Length announces more than 1 MiB, then 413 PAYLOAD_TOO_LARGE before the body is read', async () => {
      const head = `POST ${tokens} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{`;
      expectProblem(await rawRequest(port, head), 413, 'PAYLOAD_TOO_LARGE');
    });

    it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/vnd.api+json'])(
      'when the content type is %s, then 415 UNSUPPORTED_MEDIA_TYPE',
      async (contentType) => {
        expectProblem(await send('POST', tokens, '{}', { 'content-type': contentType }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      },
    );

    it('when a body comes without a content type, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const raw = `POST ${tokens} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`;
      expectProblem(await rawRequest(port, raw), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('when the body is not valid JSON, then 400 VALIDATION_FAILED', async () => {
      const response = await send('POST', tokens, '{"userId":', { 'content-type': 'application/json' });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.detail).toMatch(/JSON/);
    });

    it('when the content type is JSON and the body is empty, then 400 VALIDATION_FAILED', async () => {
      const raw = `POST ${tokens} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
      expectProblem(await rawRequest(port, raw), 400, 'VALIDATION_FAILED');
      expectProblem(await send('POST', tokens, '', { 'content-type': 'application/json' }), 400, 'VALIDATION_FAILED');
    });

    it.each(['[]', '"text"', '42', 'null', 'true', '[{"userId":1}]'])('when the JSON body is %s (not an object), then 400 VALIDATION_FAILED', async (body) => {
      expectProblem(await send('POST', tokens, body, { 'content-type': 'application/json' }), 400, 'VALIDATION_FAILED');
    });

    it('when the body carries __proto__ or constructor.prototype, then 400 VALIDATION_FAILED', async () => {
      for (const body of ['{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}']) {
        expectProblem(await send('POST', tokens, body, { 'content-type': 'application/json' }), 400, 'VALIDATION_FAILED');
      }
    });

    it('when the JSON is nested 10,000 levels deep, then 400 VALIDATION_FAILED', async () => {
      const deep = `{"userId":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      expectProblem(await send('POST', tokens, deep, { 'content-type': 'application/json' }), 400, 'VALIDATION_FAILED');
    });

    it('when the body is shorter than its Content-Length and the client gives up, then 400 VALIDATION_FAILED', async () => {
      const raw = `POST ${tokens} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":1}`;
      expectProblem(await rawRequest(port, raw, { endAfterWrite: true }), 400, 'VALIDATION_FAILED');
    });

    it('when the chunked encoding is malformed, then 400 VALIDATION_FAILED', async () => {
      const raw = `POST ${tokens} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`;
      expectProblem(await rawRequest(port, raw), 400, 'VALIDATION_FAILED');
    });
  });

  describe("Node's HTTP parser and server", () => {
    it('when a header is over the 16 KiB limit, then 431 HEADERS_TOO_LARGE', async () => {
      expectProblem(await rawRequest(port, get('/v1/concerts', `X-Big: ${'a'.repeat(20_000)}\r\n`)), 431, 'HEADERS_TOO_LARGE');
    });

    it('when the headers are far over the limit (1 MiB), then the 431 still arrives', async () => {
      expectProblem(await rawRequest(port, get('/v1/concerts', `X-Big: ${'a'.repeat(1024 * 1024)}\r\n`)), 431, 'HEADERS_TOO_LARGE');
    });

    it('when the URL alone is over the limit, then 431 HEADERS_TOO_LARGE', async () => {
      expectProblem(await rawRequest(port, get(`/v1/concerts?q=${'a'.repeat(20_000)}`)), 431, 'HEADERS_TOO_LARGE');
    });

    it.each([
      ['garbage instead of a request line', 'HELLO\r\n\r\n'],
      ['an unknown method', 'FROB /v1/concerts HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      ['a space in the target', 'GET /v1/con certs HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
      ['a header without a colon', 'GET /v1/concerts HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n'],
      ['a control character in a header value', 'GET /v1/concerts HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n'],
      ['a Content-Length that is not a number', 'POST /v1/queue/tokens HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'],
      ['two different Content-Lengths', 'POST /v1/queue/tokens HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
      ['both Content-Length and Transfer-Encoding', 'POST /v1/queue/tokens HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}'],
    ])('when the request has %s, then 400 VALIDATION_FAILED', async (_what, bytes) => {
      expectProblem(await rawRequest(port, bytes), 400, 'VALIDATION_FAILED');
    });

    it('when an HTTP/1.1 request has no Host header, then 400 VALIDATION_FAILED (HTTP/1.0 needs none)', async () => {
      expectProblem(await rawRequest(port, 'GET /v1/concerts HTTP/1.1\r\nConnection: close\r\n\r\n'), 400, 'VALIDATION_FAILED');
      const old = await rawRequest(port, 'GET /v1/concerts HTTP/1.0\r\n\r\n');
      expect(old.status).toBe(200);
    });

    it('when Expect asks for anything but 100-continue, then 417 EXPECTATION_FAILED', async () => {
      expectProblem(await rawRequest(port, get('/v1/concerts', 'Expect: the-moon\r\n')), 417, 'EXPECTATION_FAILED');
    });

    it('when Expect is 100-continue, then the request is served', async () => {
      const response = await rawRequest(port, get('/v1/concerts', 'Expect: 100-continue\r\n'));
      expect(response.status).toBe(200);
    });

    it('when the method is CONNECT, then 404 NOT_FOUND (not a dropped connection)', async () => {
      expectProblem(await rawRequest(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), 404, 'NOT_FOUND');
    });

    it('when Node times a request out (ERR_HTTP_REQUEST_TIMEOUT), then 408 REQUEST_TIMEOUT', async () => {
      // Node checks its request timeouts every 30 s; the clientError it then emits is emitted here
      // on a real connection instead.
      const serverSide = new Promise<Socket>((resolve) => t.app.server.once('connection', resolve));
      const response = rawRequest(port, 'GET /v1/con', {
        onSocket: () =>
          void serverSide.then((socket) =>
            setTimeout(() => t.app.server.emit('clientError', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket), 50),
          ),
      });
      expectProblem(await response, 408, 'REQUEST_TIMEOUT');
    });

    it('when a connection upgrade is asked for, then the request is served as a plain request', async () => {
      const response = await rawRequest(port, get('/v1/concerts', 'Upgrade: websocket\r\nConnection: Upgrade\r\n').replace('Connection: close\r\n', ''), {
        onSocket: (socket) => setTimeout(() => socket.end(), 300),
      });
      expect(response.status).toBe(200);
    });
  });

  describe('values the validator passed and the database refused (found by the fuzzer; were 500)', () => {
    const admin = (schedule: Record<string, unknown>, title = 'Fuzz') => ({
      method: 'POST' as const,
      url: '/v1/admin/concerts',
      headers: { 'x-admin-key': ADMIN_KEY },
      body: { title, schedules: [{ startsAt: '2027-06-01T19:00:00Z', seatCount: 1, price: 1, ...schedule }] },
    });

    it.each([
      ['a leap second', '2027-12-31T23:59:60Z'],
      ['year 0000', '0000-01-01T00:00:00Z'],
      ['a time that is year 10000 in UTC', '9999-12-31T23:59:59-23:59'],
    ])('when startsAt is %s (RFC 3339, but no Date or timestamptz holds it), then 400 VALIDATION_FAILED', async (_what, startsAt) => {
      const response = await act(t.app, admin({ startsAt }));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.detail).toMatch(/startsAt/);
    });

    it('when a text field holds U+0000 (PostgreSQL text cannot), then 400 VALIDATION_FAILED', async () => {
      expectProblem(await act(t.app, admin({}, 'a\u0000b')), 400, 'VALIDATION_FAILED');
      expectProblem(await act(t.app, admin({ sections: [{ grade: 'V\u0000', fromSeat: 1, toSeat: 1, price: 5 }] })), 400, 'VALIDATION_FAILED');
    });

    it('when ids come in capitals, then they name the same things: one actor per schedule, one token per user, the owner may pay', async () => {
      const concert = await createConcert(t.app, { seatCount: 5, price: 1_000 });
      const schedule = concert.schedules[0]!.scheduleId;
      for (const spelling of [schedule.toUpperCase(), `${schedule.slice(0, 8).toUpperCase()}${schedule.slice(8)}`]) {
        expect((await act(t.app, { method: 'GET', url: `/v1/schedules/${spelling}/seats` })).body.scheduleId).toBe(schedule);
      }
      const actors = await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': ADMIN_KEY } });
      expect(actors.body.actors.filter((a: { scheduleId: string }) => a.scheduleId.toLowerCase() === schedule)).toHaveLength(1);

      const user = randomUUID().toUpperCase();
      const first = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: user, concertId: concert.concertId.toUpperCase() } });
      const again = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: user.toLowerCase(), concertId: concert.concertId } });
      expect([first.status, again.status, again.body.token]).toEqual([201, 200, first.body.token]);
      const held = await act(t.app, { method: 'POST', url: '/v1/reservations', headers: { 'queue-token': first.body.token }, body: { scheduleId: schedule.toUpperCase(), seatNos: [1] } });
      expect(held.body).toMatchObject({ userId: user.toLowerCase(), scheduleId: schedule });
      await act(t.app, { method: 'POST', url: `/v1/users/${user}/balance/charges`, headers: { 'idempotency-key': randomUUID() }, body: { amount: 1_000 } });
      const paid = await act(t.app, { method: 'POST', url: '/v1/payments', headers: { 'queue-token': first.body.token, 'idempotency-key': randomUUID() }, body: { reservationId: held.body.reservationId.toUpperCase() } });
      expect(paid.status).toBe(201);
    });
  });

  describe('5xx', () => {
    it('when a handler fails unexpectedly, then 500 INTERNAL_ERROR without the error message or stack', async () => {
      const original = t.services.catalogue.listConcerts;
      t.services.catalogue.listConcerts = async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'password=hunter2') at /srv/ovation/src/secret.ts:42");
      };
      try {
        const response = await send('GET', '/v1/concerts');
        expectProblem(response, 500, 'INTERNAL_ERROR');
        expect(response.body.detail).toBeUndefined();
        expect(JSON.stringify(response.body)).not.toMatch(/Cannot read|hunter2|secret|\.ts|TypeError/);
      } finally {
        t.services.catalogue.listConcerts = original;
      }
    });
  });
});

describe('a request that arrives while the server shuts down', () => {
  it('when a keep-alive connection sends another request during shutdown, then 503 SERVICE_UNAVAILABLE with Retry-After', async () => {
    const t = await startTestApp();
    try {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = Number(new URL(address).port);
      // The first request is in flight (half its body sent) when close() begins, so the
      // connection is not idle and stays open; the second request arrives after close() began.
      let sendRest: () => void = () => undefined;
      const answer = rawRequest(port, `POST /v1/queue/tokens HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{`, {
        onSocket: (socket) => {
          sendRest = () => socket.write(`}${get('/v1/concerts')}`);
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = t.app.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      sendRest();
      const raw = (await answer).text;
      await closing;
      // Two answers on one connection: the first request's 400, then the 503.
      const second = parseResponse(raw.slice(raw.indexOf('HTTP/1.1', 1)));
      expectProblem(second, 503, 'SERVICE_UNAVAILABLE');
      expect(second.headers['retry-after']).toBe('1');
    } finally {
      await t.close();
    }
  });
});
