/**
 * A plain round-robin load balancer for a local cluster: each request goes to the next instance in
 * turn, as nginx with `proxy_next_upstream error` would send it. It knows nothing about schedules
 * or owners — that is the point: the instances must forward to the owner themselves.
 *
 * Retry rule: a request moves on to the next instance only when connecting failed (refused, reset
 * or timed out before the connection was up), i.e. before any byte of it was written. Once bytes
 * went out the instance may have applied it, so it is never sent twice; a connection lost before
 * the answer becomes 503 OUTCOME_UNKNOWN, the server's own answer for "maybe applied".
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface FrontOptions {
  port: number;
  host?: string;
  /** Base URLs of the instances (http://host:port). */
  upstreams: string[];
  /** A connection not up after this is a failed connect (next instance): a stopped process's full backlog drops SYNs. */
  connectTimeoutMs?: number;
  /** An upstream silent this long (no answer byte) is given up on: 503 OUTCOME_UNKNOWN. */
  responseTimeoutMs?: number;
  /** After a failed connect, the instance is tried last for this long (passive health, like nginx's fail_timeout). */
  failTimeoutMs?: number;
}

export interface RoundRobinFront {
  url: string;
  close(): Promise<void>;
}

interface Upstream {
  host: string;
  port: number;
  agent: http.Agent;
  downUntil: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are not forwarded.
// `expect` too: this front already answered the client's 100-continue itself.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

function problem(res: ServerResponse, code: 'SERVICE_UNAVAILABLE' | 'OUTCOME_UNKNOWN', detail: string): void {
  if (res.headersSent) {
    res.destroy(); // the answer had started: cutting it is the only honest signal left
    return;
  }
  const body = JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, code, detail });
  res.writeHead(503, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'retry-after': '1',
  });
  res.end(body);
}

function requestHeaders(req: IncomingMessage): http.OutgoingHttpHeaders {
  const named = new Set((req.headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) headers[name] = value;
  }
  // A chunked body stays chunked (Node frames it again); without the header a GET's body would go unframed.
  if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined) {
    headers['transfer-encoding'] = 'chunked';
  }
  const client = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwarded ? `${forwarded}, ${client}` : client;
  return headers;
}

/** The upstream's headers as a flat raw list (repeated ones such as set-cookie stay repeated), hop-by-hop ones left out. */
function responseHeaders(upstream: IncomingMessage): string[] {
  const named = new Set(String(upstream.headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  const raw: string[] = [];
  for (let i = 0; i < upstream.rawHeaders.length; i += 2) {
    const name = upstream.rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !named.has(lower)) raw.push(name, upstream.rawHeaders[i + 1]!);
  }
  return raw;
}

type Attempt = { connected: true } | { connected: false; error: Error };

export async function startRoundRobinFront(options: FrontOptions): Promise<RoundRobinFront> {
  const host = options.host ?? '127.0.0.1';
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
  const failTimeoutMs = options.failTimeoutMs ?? 1_000;
  if (options.upstreams.length === 0) throw new Error('a front needs at least one upstream');
  const upstreams: Upstream[] = options.upstreams.map((base) => {
    const url = new URL(base);
    // One keep-alive pool per instance; Node's agent drops an idle socket the server announced it
    // will close (its Keep-Alive: timeout hint), which keeps the stale-socket race small.
    return { host: url.hostname, port: Number(url.port || 80), agent: new http.Agent({ keepAlive: true }), downUntil: 0 };
  });
  let turn = 0;

  /** Next in turn first; instances that just refused a connection go to the back of the line, not out of it. */
  const candidates = (): Upstream[] => {
    const start = turn++ % upstreams.length;
    const rotation = upstreams.map((_, i) => upstreams[(start + i) % upstreams.length]!);
    const now = Date.now();
    return [...rotation.filter((u) => u.downUntil <= now), ...rotation.filter((u) => u.downUntil > now)];
  };

  /**
   * Sends `req` to one upstream. Resolves `connected: false` when the connection could not be
   * made (nothing was written: the caller may try another); once connected, this attempt owns the
   * request to its end and resolves `connected: true`.
   */
  const attempt = (upstream: Upstream, req: IncomingMessage, res: ServerResponse): Promise<Attempt> =>
    new Promise((resolve) => {
      let connected = false;
      const outgoing = http.request({
        host: upstream.host,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: requestHeaders(req),
        agent: upstream.agent,
        setHost: false, // the client's Host goes through as it came (or stays absent)
      });
      const connectTimer = setTimeout(() => outgoing.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), connectTimeoutMs);
      const onConnected = () => {
        if (connected) return;
        connected = true;
        clearTimeout(connectTimer);
        outgoing.setTimeout(responseTimeoutMs, () => outgoing.destroy(Object.assign(new Error('upstream silent'), { code: 'ETIMEDOUT' })));
        // Only now is the body read from the client: a failed connect leaves it unread for the next instance.
        req.pipe(outgoing);
        resolve({ connected: true });
      };
      outgoing.on('socket', (socket: Socket) => {
        // A pooled socket is already up: writing starts at once, so this counts as connected.
        if (socket.connecting) socket.once('connect', onConnected);
        else onConnected();
      });
      outgoing.on('error', (error) => {
        clearTimeout(connectTimer);
        if (!connected) {
          upstream.downUntil = Date.now() + failTimeoutMs;
          resolve({ connected: false, error });
          return;
        }
        problem(res, 'OUTCOME_UNKNOWN', `the instance's connection ended before it answered (${(error as NodeJS.ErrnoException).code ?? error.message}); the request may have been applied: replay it with its Idempotency-Key`);
      });
      outgoing.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer));
        answer.pipe(res);
        // Cut mid-body: the client must see a cut too, not a short body that looks complete.
        answer.on('aborted', () => res.destroy());
        answer.on('error', () => res.destroy());
      });
      // The client went away before its answer finished: release the instance's connection.
      res.on('close', () => {
        if (!res.writableFinished) outgoing.destroy();
      });
    });

  const server = http.createServer(async (req, res) => {
    const failures: string[] = [];
    for (const upstream of candidates()) {
      const result = await attempt(upstream, req, res);
      if (result.connected) return;
      failures.push(`${upstream.host}:${upstream.port} ${(result.error as NodeJS.ErrnoException).code ?? result.error.message}`);
      if (req.destroyed) return; // the client gave up meanwhile
    }
    res.setHeader('x-front-failures', failures.join('; '));
    problem(res, 'SERVICE_UNAVAILABLE', 'no instance answered');
  });
  // Keep-alive from the client side a little longer than the default 5 s; the load tests reuse connections.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const upstream of upstreams) upstream.agent.destroy();
      }),
  };
}
