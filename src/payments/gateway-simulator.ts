/**
 * An external card gateway, simulated over HTTP for tests and benchmarks (wire protocol and knobs:
 * docs/payment-gateway.md). It keeps charges in memory, honours idempotency keys like the real
 * one, and injects the faults our adapter must survive: declines, 500s, outages and — the one
 * reconciliation exists for — charges that are recorded while the answer never arrives in time.
 * Which fault hits a request is decided in gateway-simulator-faults.ts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_KNOBS,
  admit,
  decideNewCharge,
  drawRequest,
  KnobError,
  mergeKnobs,
  mulberry32,
  zeroCounters,
  type RequestDraws,
  type SimulatorCounters,
  type SimulatorKnobs,
} from './gateway-simulator-faults';

export type { OutageWindow, SimulatorCounters, SimulatorKnobs } from './gateway-simulator-faults';

export interface SimulatedCharge {
  id: string;
  idempotencyKey: string;
  amount: number;
  currency: 'KRW';
  reference: string;
  status: 'APPROVED' | 'DECLINED' | 'CANCELLED';
  declineReason?: 'card_declined' | 'insufficient_funds';
  createdAt: string;
}

export interface GatewaySimulator {
  /** http://host:port, without a trailing slash. */
  url: string;
  knobs(): SimulatorKnobs;
  /** Merges and validates (throws KnobError); a seed in `partial` restarts the PRNG from it. */
  setKnobs(partial: Partial<SimulatorKnobs>): void;
  counters(): SimulatorCounters;
  charges(): ReadonlyArray<SimulatedCharge>;
  /** Forgets charges and counters, restarts the outage-window clock and re-seeds the PRNG. */
  reset(): void;
  /** Stops at once: hanging answers are dropped with their sockets. */
  close(): Promise<void>;
}

export type GatewaySimulatorOptions = { port?: number; host?: string } & Partial<SimulatorKnobs>;

type Json = Record<string, unknown>;
const MAX_BODY_BYTES = 64 * 1024;

export async function startGatewaySimulator(options: GatewaySimulatorOptions = {}): Promise<GatewaySimulator> {
  const { port = 0, host = '127.0.0.1', ...knobOptions } = options;
  let knobs = mergeKnobs(DEFAULT_KNOBS, knobOptions);
  let random = seededRandom(knobs.seed);
  let counters = zeroCounters();
  let startedAt = performance.now();
  const byKey = new Map<string, SimulatedCharge>();
  const byId = new Map<string, SimulatedCharge>();
  // Latency and hang timers, so close() can drop them instead of waiting up to hangMs.
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  const setKnobs = (partial: unknown): void => {
    knobs = mergeKnobs(knobs, partial);
    if ((partial as Partial<SimulatorKnobs>).seed !== undefined) random = seededRandom(knobs.seed);
  };

  const reset = (): void => {
    byKey.clear();
    byId.clear();
    counters = zeroCounters();
    startedAt = performance.now();
    random = seededRandom(knobs.seed);
  };

  const controlView = (): Json => ({
    knobs,
    counters,
    elapsedSeconds: (performance.now() - startedAt) / 1000,
    charges: byId.size,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path === '/_control' || path.startsWith('/_control/')) return control(req, res, path);

    counters.requests++;
    // Drawn on arrival, before any await, so a seeded run decides the n-th request the same way.
    const draws = path.startsWith('/v1/') ? drawRequest(random) : undefined;
    const admission = admit(knobs, draws, (performance.now() - startedAt) / 1000);
    if (admission.kind === 'outage') {
      counters.outageRejections++;
      const retryAfter = admission.retryAfterSeconds;
      return send(res, 503, { error: 'unavailable' }, retryAfter ? { 'retry-after': String(retryAfter) } : {});
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    await sleep(admission.latencyMs);
    if (admission.kind === 'error') {
      counters.errorsInjected++;
      return send(res, 500, { error: 'internal' });
    }

    const segments = path.split('/').slice(1); // '/v1/charges/x' → ['v1', 'charges', 'x']
    if (req.method === 'GET' && path === '/health') return send(res, 200, { ok: true });
    if (req.method === 'POST' && path === '/v1/charges' && draws) return createCharge(req, res, body, draws);
    if (req.method === 'GET' && segments.length === 4 && path.startsWith('/v1/charges/by-key/')) {
      const charge = byKey.get(decodeSegment(segments[3]));
      return charge ? send(res, 200, charge) : send(res, 404, { error: 'not_found' });
    }
    if (req.method === 'POST' && segments.length === 4 && path.startsWith('/v1/charges/') && segments[3] === 'cancel') {
      return cancelCharge(res, decodeSegment(segments[2]));
    }
    send(res, 404, { error: 'not_found' });
  }

  async function createCharge(req: IncomingMessage, res: ServerResponse, body: string | undefined, draws: RequestDraws) {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length < 1 || key.length > 64) {
      return send(res, 400, { error: 'idempotency_key_required' });
    }
    const request = parseChargeRequest(body);
    if (!request) return send(res, 400, { error: 'invalid_request' });

    const existing = byKey.get(key);
    if (existing) {
      if (existing.amount !== request.amount || existing.reference !== request.reference) {
        return send(res, 409, { error: 'idempotency_key_reused' });
      }
      counters.replays++;
      return send(res, 200, existing);
    }

    const fate = decideNewCharge(knobs, draws);
    const charge: SimulatedCharge = {
      id: `ch_${randomBytes(12).toString('hex')}`,
      idempotencyKey: key,
      amount: request.amount,
      currency: 'KRW',
      reference: request.reference,
      status: fate.status,
      ...(fate.status === 'DECLINED' ? { declineReason: 'card_declined' as const } : {}),
      createdAt: new Date().toISOString(),
    };
    byKey.set(key, charge);
    byId.set(charge.id, charge);
    counters.chargesCreated++;
    if (fate.status === 'APPROVED') counters.approved++;
    else counters.declined++;
    if (fate.hang) {
      // Recorded, but the client hears nothing for hangMs: its outcome is unknown until it looks up the key.
      counters.timeoutsInjected++;
      const answer = { ...charge };
      await sleep(knobs.hangMs);
      return send(res, 200, answer);
    }
    send(res, 200, charge);
  }

  function cancelCharge(res: ServerResponse, id: string): void {
    const charge = byId.get(id);
    if (!charge) return send(res, 404, { error: 'not_found' });
    if (charge.status === 'DECLINED') return send(res, 409, { error: 'not_cancellable' });
    if (charge.status === 'APPROVED') {
      charge.status = 'CANCELLED';
      counters.cancelled++;
    }
    send(res, 200, charge);
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'GET' && path === '/_control') return send(res, 200, controlView());
    if (req.method === 'POST' && path === '/_control/reset') {
      reset();
      return send(res, 200, controlView());
    }
    if (req.method === 'PUT' && path === '/_control') {
      try {
        setKnobs(JSON.parse((await readBody(req)) ?? ''));
      } catch (error) {
        const message = error instanceof KnobError ? error.message : 'body must be a JSON object of knobs';
        return send(res, 400, { error: 'invalid_knobs', message });
      }
      return send(res, 200, controlView());
    }
    send(res, 404, { error: 'not_found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: 'internal' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    knobs: () => ({ ...knobs, outageWindows: knobs.outageWindows.map((w) => ({ ...w })) }),
    setKnobs,
    counters: () => ({ ...counters }),
    charges: () => [...byId.values()].map((charge) => ({ ...charge })),
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive and hanging connections would hold close() open; drop them.
        server.closeAllConnections();
      }),
  };
}

function seededRandom(seed: number | undefined): () => number {
  return mulberry32(seed ?? randomInt(0, 2 ** 32));
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  // The client may have given up (aborted a hanging charge); writing then would raise on the socket.
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The body as text; undefined when it is larger than MAX_BODY_BYTES or the client went away. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', () => resolve(undefined));
  });
}

function parseChargeRequest(body: string | undefined): { amount: number; reference: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
  const { amount, currency, reference } = (parsed ?? {}) as Json;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return undefined;
  if (currency !== 'KRW' || typeof reference !== 'string') return undefined;
  return { amount, reference };
}

/** A path segment decoded; a malformed escape yields a key no charge has. */
function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return '';
  }
}
