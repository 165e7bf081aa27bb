/**
 * The buyers' HTTP client: one fetch per request (keep-alive by undici), every answer recorded with
 * what the honesty check needs later (operation, Idempotency-Key, ids, send and receive times on the
 * wall clock, which the server's decision times share: same machine).
 */
export type Operation =
  | 'token-issue'
  | 'token-poll'
  | 'concerts'
  | 'schedules'
  | 'seat-map'
  | 'hold'
  | 'cancel'
  | 'my-reservations'
  | 'balance'
  | 'charge'
  | 'charge-status'
  | 'pay';

export interface Answer {
  op: Operation;
  /** Route template, e.g. "POST /v1/reservations". */
  route: string;
  /** HTTP status; 0 = no answer (connection refused or reset, client timeout). */
  status: number;
  code?: string;
  /** Transport error when status is 0. */
  error?: string;
  sentAt: number;
  receivedAt: number;
  ms: number;
  userId: string;
  key?: string;
  /** Attempt number for this key (1 = first). */
  attempt?: number;
  reservationId?: string;
  chargeId?: string;
  paymentId?: string;
}

export interface Reply {
  status: number;
  code?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field
  body: any;
  retryAfterMs: number;
}

/** No request may take longer than this; the invariants flag answers slower than ANSWER_BOUND_MS. */
export const CLIENT_TIMEOUT_MS = 30_000;
export const ANSWER_BOUND_MS = 20_000;

export class Recorder {
  readonly answers: Answer[] = [];
  /** Called for every answer (recovery tracking). */
  onAnswer: (answer: Answer) => void = () => undefined;

  add(answer: Answer): void {
    this.answers.push(answer);
    this.onAnswer(answer);
  }
}

export interface CallSpec {
  op: Operation;
  route: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  userId: string;
  body?: unknown;
  token?: string;
  key?: string;
  attempt?: number;
  reservationId?: string;
}

export class SoakClient {
  constructor(
    readonly baseUrl: string,
    private readonly recorder: Recorder,
  ) {}

  async call(spec: CallSpec): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (spec.token !== undefined) headers['queue-token'] = spec.token;
    if (spec.key !== undefined) headers['idempotency-key'] = spec.key;
    const sentAt = Date.now();
    const started = performance.now();
    let reply: Reply;
    let error: string | undefined;
    try {
      const response = await fetch(`${this.baseUrl}${spec.path}`, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = { unparsable: text.slice(0, 200) };
      }
      const code = typeof (body as { code?: unknown } | undefined)?.code === 'string' ? (body as { code: string }).code : undefined;
      const retryAfter = Number(response.headers.get('retry-after'));
      reply = { status: response.status, code, body, retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0 };
    } catch (caught) {
      const cause = (caught as { cause?: { code?: string; message?: string } }).cause;
      error = cause?.code ?? (caught as Error).name ?? 'Error';
      reply = { status: 0, code: undefined, body: undefined, retryAfterMs: 0 };
    }
    const ms = performance.now() - started;
    const receivedAt = Math.max(Date.now(), sentAt);
    const body = reply.body as Record<string, unknown> | undefined;
    const text = (field: string): string | undefined => (typeof body?.[field] === 'string' ? (body[field] as string) : undefined);
    this.recorder.add({
      op: spec.op,
      route: spec.route,
      status: reply.status,
      ...(reply.code ? { code: reply.code } : {}),
      ...(error ? { error } : {}),
      sentAt,
      receivedAt,
      ms,
      userId: spec.userId,
      ...(spec.key ? { key: spec.key, attempt: spec.attempt ?? 1 } : {}),
      ...(spec.reservationId || text('reservationId') ? { reservationId: spec.reservationId ?? text('reservationId') } : {}),
      ...(text('chargeId') ? { chargeId: text('chargeId') } : {}),
      ...(text('paymentId') ? { paymentId: text('paymentId') } : {}),
    });
    return reply;
  }
}
