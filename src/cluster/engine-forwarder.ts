/**
 * Sends an engine call to the instance that owns its schedule (undici, pooled keep-alive
 * connections per owner) and turns the answer back into the call's result or failure. Bounded:
 * connecting takes at most `connectTimeoutMs`, the answer at most `answerTimeoutMs` (the owner's
 * own deadline for a decided command plus slack). A call that never reached the owner (refused,
 * unreachable) was not applied: 503. One that broke after it was sent may have been applied: a
 * write then answers OUTCOME_UNKNOWN (the client's Idempotency-Key tells the truth later).
 */
import { Agent, request } from 'undici';
import { EngineOutcomeUnknownError } from '../engine/outcome-unknown-error';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import {
  CLUSTER_SECRET_HEADER,
  FORWARDED_BY_HEADER,
  fromWireFailure,
  isWireFailure,
  NotOwnerError,
  OwnerUnreachableError,
  WRITE_OPS,
  type ForwardedOp,
} from './engine-wire';

export interface ForwarderOptions {
  selfUrl: string;
  secret: string;
  connectTimeoutMs: number;
  answerTimeoutMs: number;
  connectionsPerOwner: number;
  /** Each forward's outcome (a bounded label) and duration, for metrics. */
  observe?: (op: ForwardedOp, outcome: string, seconds: number) => void;
}

/** Errors raised before a single byte of the request could have reached the owner. */
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export class EngineForwarder {
  private readonly agent: Agent;

  constructor(private readonly options: ForwarderOptions) {
    this.agent = new Agent({
      connections: options.connectionsPerOwner,
      keepAliveTimeout: 4_000,
      connect: { timeout: options.connectTimeoutMs },
    });
  }

  /** The owner's answer body: JSON text of `{ result }`, or the seat map itself for `seatMap`. */
  async call(ownerUrl: string, op: ForwardedOp, argument: unknown): Promise<string> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await this.send(ownerUrl, op, argument);
    } catch (error) {
      outcome = error instanceof OwnerUnreachableError ? 'unreachable' : error instanceof NotOwnerError ? 'not_owner' : error instanceof EngineOutcomeUnknownError ? 'outcome_unknown' : error instanceof EngineUnavailableError ? 'unavailable' : 'error';
      throw error;
    } finally {
      this.options.observe?.(op, outcome, (performance.now() - started) / 1000);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async send(ownerUrl: string, op: ForwardedOp, argument: unknown): Promise<string> {
    let response;
    try {
      response = await request(`${ownerUrl}/internal/v1/engine/${op}`, {
        dispatcher: this.agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [CLUSTER_SECRET_HEADER]: this.options.secret,
          [FORWARDED_BY_HEADER]: this.options.selfUrl,
        },
        body: JSON.stringify(argument),
        headersTimeout: this.options.answerTimeoutMs,
        bodyTimeout: this.options.answerTimeoutMs,
        // undici's timeouts start once the request is written; a call queued for a free
        // connection would wait unbounded without this. (An abort counts as "may have been sent".)
        signal: AbortSignal.timeout(this.options.connectTimeoutMs + this.options.answerTimeoutMs),
      });
    } catch (error) {
      throw this.brokenHop(ownerUrl, op, error);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.brokenHop(ownerUrl, op, error);
    }
    if (response.statusCode === 200) return text;
    const failure = parseFailure(text);
    if (failure) throw fromWireFailure(failure, ownerUrl);
    // A member that is shutting down answers its own 503 before any route runs: nothing applied.
    if (response.statusCode === 503) throw new OwnerUnreachableError(`${op} forwarded to ${ownerUrl}: the owner is shutting down, nothing applied`);
    // Anything else (a 404: CLUSTER_SECRET differs between members) is a misconfiguration: 500.
    throw new Error(`forward of ${op} to ${ownerUrl} answered ${response.statusCode}: ${text.slice(0, 200)}`);
  }

  private brokenHop(ownerUrl: string, op: ForwardedOp, error: unknown): Error {
    const code = (error as { code?: string }).code ?? '';
    const detail = `${op} forwarded to ${ownerUrl}: ${error instanceof Error ? error.message : String(error)}`;
    if (NOT_SENT.has(code)) return new OwnerUnreachableError(`owner unreachable, nothing applied: ${detail}`);
    if (WRITE_OPS.has(op)) return new EngineOutcomeUnknownError(`the owner's answer was lost: ${detail}`, 2);
    return new EngineUnavailableError(`the owner did not answer: ${detail}`, 1);
  }
}

function parseFailure(text: string) {
  try {
    const parsed = JSON.parse(text) as { wire?: unknown };
    return isWireFailure(parsed.wire) ? parsed.wire : undefined;
  } catch {
    return undefined;
  }
}
