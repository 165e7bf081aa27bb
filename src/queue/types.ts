import type Redis from 'ioredis';
import type { QueueDrawStore } from './queue-draws';

export type TokenStatus = 'WAITING' | 'ACTIVE';

export interface TokenView {
  token: string;
  status: TokenStatus;
  /** 0 when ACTIVE, otherwise the 1-based place in line; null in the pre-queue (before the draw). */
  position: number | null;
  estimatedWaitSeconds: number;
  /** ISO timestamp; null while WAITING. */
  activeUntil: string | null;
  /** ISO timestamp of the concert's on-sale time, while the token is in the pre-queue only. */
  opensAt?: string;
}

export interface TokenInfo extends TokenView {
  userId: string;
  concertId: string;
}

export type TokenLookup =
  | { kind: 'live'; info: TokenInfo }
  /**
   * Ended by payment, by the active TTL, or by not being polled while WAITING, but still retained,
   * so a payment replay can resolve its user.
   */
  | { kind: 'used'; userId: string; concertId: string }
  /** Unknown, forged, malformed or gone. */
  | { kind: 'invalid' };

/** What every waiting line takes, wherever it keeps its tokens (Redis or process memory). */
export interface TokenQueueSettings {
  maxActive: number;
  activeTtlSeconds: number;
  /**
   * A WAITING token whose holder neither issued it again nor looked it up for this long loses its
   * place and is ended like a used token (default 60). Every such request moves the deadline on.
   */
  waitingTtlSeconds?: number;
  /** Default 250. */
  admissionIntervalMs?: number;
  /** Epoch ms; default Date.now. */
  now?: () => number;
  /** Called when a background admission sweep fails; default console.error. */
  onAdmissionError?: (error: unknown) => void;
  /** How long a token ended by payment or TTL still resolves to its user (default 86,400). */
  usedTokenRetentionSeconds?: number;
  /**
   * Where pre-queue draws are recorded (PostgreSQL in the server). Needed only for concerts with
   * an on-sale time: issuing for one without it fails.
   */
  draws?: QueueDrawStore;
}

export interface TokenQueueOptions extends TokenQueueSettings {
  /** Must not use ioredis' own `keyPrefix` option: the Lua scripts derive token keys themselves. */
  redis: Redis;
  keyPrefix: string;
}

/** One concert's line as operators see it (metrics, /ops). */
export interface LineStats {
  concertId: string;
  /** Tokens issued before the on-sale time, not ranked until the draw. */
  prequeue: number;
  /** Tokens in line (ranked). */
  waiting: number;
  active: number;
  /** Tokens ever admitted, walk-ins included (a counter: it only grows, until the store restarts). */
  admittedTotal: number;
}

export interface TokenQueue {
  /**
   * Asking again for a live token returns it (created false) and counts as a poll of it.
   * `opensAt` (epoch ms) is the concert's on-sale time, when it has one (the catalogue's): before
   * it, tokens go to the pre-queue; at it, the pre-queue is drawn into line (api.md).
   */
  issue(userId: string, concertId: string, opensAt?: number | null): Promise<{ created: boolean; info: TokenInfo }>;
  /**
   * Admits first, so the answer is current. Counts as a poll of a WAITING token (its deadline
   * moves on), and re-queues at the end of the line a WAITING token whose place was lost.
   */
  lookup(token: string): Promise<TokenLookup>;
  /** On payment; idempotent. */
  expire(token: string): Promise<void>;
  /** One sweep over all concerts in the registry; returns how many tokens were admitted. */
  admitAll(): Promise<number>;
  /** Every concert with a live line; read-only (admits, polls and purges nothing). */
  stats(): Promise<LineStats[]>;
  /** Starts the admission loop; idempotent. */
  start(): void;
  /** Stops the loop and waits for a sweep in flight. */
  stop(): Promise<void>;
}
