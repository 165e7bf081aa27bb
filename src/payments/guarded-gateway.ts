/**
 * The payment gateway behind cockatiel: bulkhead → retry → circuit breaker → timeout → one HTTP
 * attempt. Read outside in:
 * - the bulkhead caps calls in flight (and a short queue), so a slow gateway cannot take every
 *   request's capacity; a full bulkhead answers "unavailable" at once;
 * - retries use exponential backoff with decorrelated jitter; they are safe because every attempt
 *   carries the same idempotency key. A broken circuit is not retried;
 * - the breaker opens when the failure rate over a sliding window passes the threshold (with a
 *   minimum number of calls), answers at once while open, and lets one probe through when half-open;
 * - the timeout aborts each attempt's socket.
 * After the last attempt the caller learns one of two things: nothing was applied (every attempt
 * was refused before processing, or never sent), or the outcome is unknown (at least one attempt
 * may have reached the gateway): the charge must then be reconciled.
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ExponentialBackoff,
  SamplingBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleType,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import type { GatewayConfig } from '../config';
import {
  GatewayOutcomeUnknownError,
  GatewayUnavailableError,
  type GatewayChargeRequest,
  type GatewayDecision,
  type PaymentGateway,
} from './payment-gateway';

export type BreakerState = 'closed' | 'half-open' | 'open';
export type GatewayOperation = 'charge' | 'lookup' | 'cancel';
export type CallOutcome = 'ok' | 'unavailable' | 'unknown' | 'rejected_open' | 'rejected_bulkhead';

export interface GatewayObserver {
  call(operation: GatewayOperation, outcome: CallOutcome, seconds: number): void;
}

export class GuardedGateway implements PaymentGateway {
  private readonly breaker;
  private readonly policy: IPolicy;

  private observer: GatewayObserver = { call: () => undefined };
  private openedAt = 0;

  constructor(
    private readonly inner: PaymentGateway,
    private readonly config: GatewayConfig,
  ) {
    const transient = handleType(GatewayUnavailableError).orType(GatewayOutcomeUnknownError).orType(TaskCancelledError);
    this.breaker = circuitBreaker(transient, {
      halfOpenAfter: config.breakerHalfOpenAfterMs,
      breaker: new SamplingBreaker({
        threshold: config.breakerThreshold,
        duration: config.breakerWindowMs,
        minimumRps: config.breakerMinCalls / (config.breakerWindowMs / 1000),
      }),
    });
    this.breaker.onBreak(() => (this.openedAt = Date.now()));
    this.policy = wrap(
      bulkhead(config.concurrency, config.queue),
      retry(transient, {
        maxAttempts: config.retries,
        backoff: new ExponentialBackoff({ initialDelay: config.retryBaseMs, maxDelay: config.retryMaxMs }),
      }),
      this.breaker,
      timeout(config.timeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  observe(observer: GatewayObserver): void {
    this.observer = observer;
  }

  get state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /**
   * False while the breaker is open and not yet due for its half-open probe: a caller can refuse
   * before doing any work. (cockatiel moves to half-open only when a call is made after the wait.)
   */
  get acceptsCalls(): boolean {
    return this.state !== 'open' || Date.now() - this.openedAt >= this.config.breakerHalfOpenAfterMs;
  }

  charge(request: GatewayChargeRequest): Promise<GatewayDecision> {
    return this.run('charge', (signal) => this.inner.charge(request, signal));
  }

  lookup(chargeId: string): Promise<GatewayDecision | undefined> {
    return this.run('lookup', (signal) => this.inner.lookup(chargeId, signal));
  }

  cancel(gatewayRef: string): Promise<void> {
    return this.run('cancel', (signal) => this.inner.cancel(gatewayRef, signal));
  }

  private async run<T>(operation: GatewayOperation, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = performance.now();
    // An attempt may have applied unless the gateway refused it: one still running after its
    // timeout (a gateway that ignores the abort) counts as "may have".
    let attempts = 0;
    let refused = 0;
    const outcome = (name: CallOutcome) => this.observer.call(operation, name, (performance.now() - started) / 1000);
    try {
      // A signal per call: cockatiel's shared default would collect an abort listener per concurrent call.
      const result = await this.policy.execute(async ({ signal }) => {
        attempts += 1;
        try {
          return await attempt(signal);
        } catch (error) {
          if (error instanceof GatewayUnavailableError) refused += 1;
          throw error;
        }
      }, new AbortController().signal);
      outcome('ok');
      return result;
    } catch (error) {
      if (attempts > refused) {
        outcome('unknown');
        throw error instanceof GatewayOutcomeUnknownError ? error : new GatewayOutcomeUnknownError(`payment gateway: ${(error as Error).message}`);
      }
      if (error instanceof BrokenCircuitError) {
        outcome('rejected_open');
        throw new GatewayUnavailableError('payment gateway circuit is open', Math.ceil(this.config.breakerHalfOpenAfterMs / 1000));
      }
      if (error instanceof BulkheadRejectedError) {
        outcome('rejected_bulkhead');
        throw new GatewayUnavailableError('payment gateway is at its concurrency limit', 1);
      }
      outcome('unavailable');
      throw error;
    }
  }
}
