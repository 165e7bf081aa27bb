/**
 * A virtual user as a scenario script sees it: its own keep-alive connection, requests that are
 * timed and counted (k6 names: http_reqs, http_req_failed, checks), sleeps that end when the run
 * stops, and a few levers (success, finish). Scripts are plain async code.
 */
import { TransportError, type HttpConnection, type RawResponse } from './http-client';
import type { Recorder } from './recorder';
import type { ScenarioParams } from '../scenarios/types';

/** Thrown by a request once the run is stopping: unwinds the iteration, counted nowhere. */
export class StopSignal extends Error {
  constructor() {
    super('the run is stopping');
  }
}

export type Phase = 'init' | 'warmup' | 'measure' | 'drain';

/** What the runner lends every virtual user. */
export interface RunControl {
  readonly phase: Phase;
  readonly stopping: boolean;
  readonly recorder: Recorder;
  finish(): void;
  sleep(ms: number, isCancelled: () => boolean): Promise<void>;
  random(): number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Statuses that are not failures (k6 expectedStatuses); default: below 400. */
  expect?: readonly number[];
}

export class Response {
  private parsed: unknown;

  constructor(
    readonly status: number,
    readonly raw: RawResponse,
  ) {}

  json<T>(): T {
    if (this.parsed === undefined) this.parsed = JSON.parse(this.raw.body.toString('utf8'));
    return this.parsed as T;
  }

  /** The problem+json `code` of an error response. */
  code(): string | undefined {
    if (this.status < 400) return undefined;
    try {
      const body = this.json<{ code?: unknown }>();
      return typeof body.code === 'string' ? body.code : undefined;
    } catch {
      return undefined;
    }
  }
}

export class Vu<Setup, Shared> {
  private retired = false;
  private interrupted = false;
  /** Whether this VU's latest response fell in the window: its checks and successes count only then. */
  private lastRecorded = false;

  constructor(
    readonly id: number,
    readonly setup: Setup,
    readonly shared: Shared,
    readonly params: ScenarioParams,
    private readonly run: RunControl,
    private readonly connection: HttpConnection,
  ) {}

  get phase(): Phase {
    return this.run.phase;
  }

  /** The run is ending or this VU was cut off: its requests throw StopSignal, its sleeps end. */
  get stopping(): boolean {
    return this.interrupted || this.run.stopping;
  }

  /** No further iteration: ramped down (k6: the current iteration still runs, sleeps included) or stopping. */
  get retiring(): boolean {
    return this.retired || this.stopping;
  }

  retire(): void {
    this.retired = true;
  }

  /** Cut off mid-iteration (a ramped-down VU past the graceful ramp-down). */
  interrupt(): void {
    this.interrupted = true;
  }

  get(name: string, path: string, options?: RequestOptions): Promise<Response> {
    return this.request(name, 'GET', path, undefined, options);
  }

  post(name: string, path: string, body: unknown, options?: RequestOptions): Promise<Response> {
    return this.request(name, 'POST', path, JSON.stringify(body), options);
  }

  delete(name: string, path: string, options?: RequestOptions): Promise<Response> {
    return this.request(name, 'DELETE', path, undefined, options);
  }

  /** k6 `check`: counted (in the window) and returned. */
  check(name: string, passed: boolean): boolean {
    if (this.lastRecorded) this.run.recorder.check(name, passed);
    return passed;
  }

  /** `count` successful operations (ok_per_s), counted when the response that completed them is in the window. */
  success(count = 1): void {
    if (this.lastRecorded) this.run.recorder.success(performance.now(), count);
  }

  /** A scenario figure, reported as is (last value wins). */
  metric(name: string, value: number): void {
    this.run.recorder.metric(name, value);
  }

  /** Ends the measurement window now (a scenario that is done, e.g. sold out). */
  finish(): void {
    this.run.finish();
  }

  /** Milliseconds since the window opened (NaN before). */
  windowElapsedMs(): number {
    return performance.now() - this.run.recorder.windowStart;
  }

  sleep(ms: number): Promise<void> {
    return this.run.sleep(ms, () => this.stopping);
  }

  /** Integer in [0, n). */
  random(n: number): number {
    return Math.floor(this.run.random() * n);
  }

  private async request(name: string, method: string, path: string, body: string | undefined, options?: RequestOptions): Promise<Response> {
    if (this.stopping) throw new StopSignal();
    let headerLines = '';
    if (options?.headers) for (const [key, value] of Object.entries(options.headers)) headerLines += `${key}: ${value}\r\n`;
    const startedAt = performance.now();
    let raw: RawResponse;
    try {
      raw = await this.connection.request(method, path, body, headerLines);
    } catch (error) {
      // Cut off by the runner (end of the run, past the graceful ramp-down): not a failure of the server.
      if (this.stopping) throw new StopSignal();
      const now = performance.now();
      const message = error instanceof Error ? error.message : String(error);
      this.lastRecorded = this.run.recorder.request(name, startedAt, now, 0, true, undefined);
      if (this.lastRecorded) {
        this.run.recorder.errorSample({ request: `${method} ${path}`, status: 0, body: message, atMs: Math.round(now - this.run.recorder.windowStart) });
      }
      throw error instanceof TransportError ? error : new TransportError(message);
    }
    const now = performance.now();
    const response = new Response(raw.status, raw);
    const expected = options?.expect ? options.expect.includes(raw.status) : raw.status < 400;
    const code = raw.status >= 400 ? response.code() : undefined;
    const recorded = this.run.recorder.request(name, startedAt, now, raw.status, !expected, code);
    this.lastRecorded = recorded;
    if (recorded && (raw.status >= 500 || !expected)) {
      this.run.recorder.errorSample({
        request: `${method} ${path}${body === undefined ? '' : ` ${body.slice(0, 300)}`}`,
        status: raw.status,
        body: raw.body.toString('utf8').slice(0, 500),
        atMs: Math.round(now - this.run.recorder.windowStart),
      });
    }
    return response;
  }
}
