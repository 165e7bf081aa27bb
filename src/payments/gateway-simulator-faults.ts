/**
 * The pure half of the card gateway simulator (docs/payment-gateway.md): its knobs, their
 * validation, a seeded PRNG and the choice of which fault hits a request. No I/O here, so the
 * choices can be tested and reproduced on their own; gateway-simulator.ts does the HTTP.
 */

/** A scheduled outage, in seconds since the simulator started (or was last reset). */
export interface OutageWindow {
  startSeconds: number;
  endSeconds: number;
}

export interface SimulatorKnobs {
  /** Median latency of every /v1 answer, in ms. */
  latencyMs: number;
  /** Latency is uniform in [latencyMs - jitter, latencyMs + jitter] (floored at 0); 0 = exactly latencyMs. */
  latencyJitterMs: number;
  /** Fraction of new charges answered DECLINED (card_declined). */
  declineRate: number;
  /** Fraction of /v1 requests answered 500 without recording anything. */
  errorRate: number;
  /** Fraction of new charges that are recorded but answered only after hangMs. */
  timeoutRate: number;
  hangMs: number;
  /** Every request except /_control gets 503 at once. */
  outage: boolean;
  outageWindows: ReadonlyArray<OutageWindow>;
  /** Seeds the PRNG so the sequence of choices is reproducible; unset = seeded at random. */
  seed?: number;
}

export interface SimulatorCounters {
  /** Every request except /_control, whatever its answer. */
  requests: number;
  chargesCreated: number;
  approved: number;
  declined: number;
  cancelled: number;
  errorsInjected: number;
  timeoutsInjected: number;
  outageRejections: number;
  /** Charge requests answered with the charge already stored under their key. */
  replays: number;
}

export const DEFAULT_KNOBS: SimulatorKnobs = Object.freeze({
  latencyMs: 20,
  latencyJitterMs: 0,
  declineRate: 0,
  errorRate: 0,
  timeoutRate: 0,
  hangMs: 30_000,
  outage: false,
  outageWindows: Object.freeze([]) as ReadonlyArray<OutageWindow>,
});

export function zeroCounters(): SimulatorCounters {
  return {
    requests: 0,
    chargesCreated: 0,
    approved: 0,
    declined: 0,
    cancelled: 0,
    errorsInjected: 0,
    timeoutsInjected: 0,
    outageRejections: 0,
    replays: 0,
  };
}

/** A knob value out of range; `knob` lets the CLI name its flag instead. */
export class KnobError extends Error {
  constructor(
    readonly knob: string,
    readonly expectation: string,
  ) {
    super(`${knob} must be ${expectation}`);
  }
}

type Rule = { expectation: string; valid: (value: unknown) => boolean };
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const duration: Rule = { expectation: 'a number of ms >= 0', valid: (v) => isNumber(v) && v >= 0 };
const rate: Rule = { expectation: 'a number between 0 and 1', valid: (v) => isNumber(v) && v >= 0 && v <= 1 };
const isWindow = (w: unknown): boolean => {
  const { startSeconds, endSeconds } = (w ?? {}) as Partial<OutageWindow>;
  return isNumber(startSeconds) && isNumber(endSeconds) && startSeconds >= 0 && startSeconds < endSeconds;
};

const RULES: Record<keyof SimulatorKnobs, Rule> = {
  latencyMs: duration,
  latencyJitterMs: duration,
  declineRate: rate,
  errorRate: rate,
  timeoutRate: rate,
  hangMs: duration,
  outage: { expectation: 'true or false', valid: (v) => typeof v === 'boolean' },
  outageWindows: {
    expectation: 'a list of { startSeconds, endSeconds } with 0 <= startSeconds < endSeconds',
    valid: (v) => Array.isArray(v) && v.every(isWindow),
  },
  seed: { expectation: 'an integer', valid: (v) => Number.isSafeInteger(v) },
};

/** `current` with `partial` merged in; throws KnobError on an unknown knob or a bad value. */
export function mergeKnobs(current: SimulatorKnobs, partial: unknown): SimulatorKnobs {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new KnobError('knobs', 'a JSON object');
  }
  const merged: Record<string, unknown> = { ...current };
  for (const [knob, value] of Object.entries(partial)) {
    if (value === undefined) continue; // {...options} spreads absent knobs as undefined
    const rule = RULES[knob as keyof SimulatorKnobs];
    if (rule === undefined) throw new KnobError(knob, `one of ${Object.keys(RULES).join(', ')} (unknown knob)`);
    if (!rule.valid(value)) throw new KnobError(knob, rule.expectation);
    merged[knob] =
      knob === 'outageWindows'
        ? (value as OutageWindow[]).map(({ startSeconds, endSeconds }) => ({ startSeconds, endSeconds }))
        : value;
  }
  return merged as unknown as SimulatorKnobs;
}

/** mulberry32: a tiny 32-bit PRNG, good enough for fault injection and reproducible from a seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The four random numbers in [0, 1) that decide one /v1 request. */
export interface RequestDraws {
  error: number;
  latency: number;
  decline: number;
  timeout: number;
}

/**
 * Every /v1 request takes exactly four draws, in this order, whether or not it needs them —
 * so with a seed the n-th request always gets the same choices, whatever the knobs or the
 * outcome of earlier requests.
 */
export function drawRequest(random: () => number): RequestDraws {
  return { error: random(), latency: random(), decline: random(), timeout: random() };
}

export function latencyFor(knobs: SimulatorKnobs, draw: number): number {
  const spread = (draw * 2 - 1) * knobs.latencyJitterMs;
  return Math.max(0, Math.round(knobs.latencyMs + spread));
}

export function activeOutageWindow(knobs: SimulatorKnobs, elapsedSeconds: number): OutageWindow | undefined {
  return knobs.outageWindows.find((w) => elapsedSeconds >= w.startSeconds && elapsedSeconds < w.endSeconds);
}

/** What happens to a /v1 request before it is routed. */
export type Admission =
  | { kind: 'outage'; retryAfterSeconds?: number }
  | { kind: 'error'; latencyMs: number }
  | { kind: 'serve'; latencyMs: number };

/**
 * `draws` is undefined for requests outside /v1 (GET /health): only an outage reaches those, so
 * health probes neither fail at random nor shift the seeded sequence of the charges.
 */
export function admit(knobs: SimulatorKnobs, draws: RequestDraws | undefined, elapsedSeconds: number): Admission {
  // An outage answers at once: the gateway's edge refuses before anything is processed.
  if (knobs.outage) return { kind: 'outage' };
  const window = activeOutageWindow(knobs, elapsedSeconds);
  if (window) return { kind: 'outage', retryAfterSeconds: Math.max(1, Math.ceil(window.endSeconds - elapsedSeconds)) };
  if (!draws) return { kind: 'serve', latencyMs: 0 };
  const latencyMs = latencyFor(knobs, draws.latency);
  // draw < rate: a rate of 0 never fires, a rate of 1 always does (draws are < 1).
  if (draws.error < knobs.errorRate) return { kind: 'error', latencyMs };
  return { kind: 'serve', latencyMs };
}

/** The fate of a charge the gateway has not seen before. */
export interface NewChargeFate {
  status: 'APPROVED' | 'DECLINED';
  /** Recorded, but the answer is held back for hangMs. */
  hang: boolean;
}

export function decideNewCharge(knobs: SimulatorKnobs, draws: RequestDraws): NewChargeFate {
  return {
    status: draws.decline < knobs.declineRate ? 'DECLINED' : 'APPROVED',
    hang: draws.timeout < knobs.timeoutRate,
  };
}
