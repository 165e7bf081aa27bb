import { DRAW_DUE, type DrawDue } from './pre-queue-drawer';
import type { TokenStatus } from './types';

/** What the Lua `describe` function says about one token, decoded. */
export type TokenDescription =
  | { kind: 'invalid' }
  | { kind: 'used'; token: string; userId: string }
  | {
      kind: 'live';
      token: string;
      userId: string;
      status: TokenStatus;
      activeUntilMs: number | null;
      /** null in the pre-queue (before the draw). */
      position: number | null;
      admissionsLastMinute: number;
      /** Set in the pre-queue only. */
      opensAtMs: number | null;
    };


export interface IssueReply {
  created: boolean;
  description: TokenDescription;
}

export interface LookupReply {
  /** The token's entry in the waiting ZSET had been lost and was put back at the end of the line. */
  requeued: boolean;
  description: TokenDescription;
}

export interface AdmitReply {
  admitted: number;
  /** Waiting + active tokens left for the concert. */
  live: number;
}

export function parseDescription(reply: unknown): TokenDescription {
  const fields = asArray(reply);
  const kind = fields[0];
  if (kind === 'invalid') return { kind: 'invalid' };
  if (kind === 'used') {
    return { kind: 'used', token: asString(fields[1]), userId: asString(fields[2]) };
  }
  if (kind === 'live') {
    const position = asNumber(fields[5]);
    return {
      kind: 'live',
      token: asString(fields[1]),
      userId: asString(fields[2]),
      status: asStatus(fields[3]),
      activeUntilMs: optionalNumber(fields[4]),
      position: position < 0 ? null : position,
      admissionsLastMinute: asNumber(fields[6]),
      opensAtMs: optionalNumber(fields[7]),
    };
  }
  throw unexpected(reply);
}

function isDrawDue(reply: unknown): reply is [DrawDue] {
  return Array.isArray(reply) && reply.length === 1 && reply[0] === DRAW_DUE;
}

export function parseIssueReply(reply: unknown): IssueReply | DrawDue {
  if (isDrawDue(reply)) return DRAW_DUE;
  const [created, ...description] = asArray(reply);
  return { created: asNumber(created) === 1, description: parseDescription(description) };
}

export function parseLookupReply(reply: unknown): LookupReply | DrawDue {
  if (isDrawDue(reply)) return DRAW_DUE;
  const [requeued, ...description] = asArray(reply);
  return { requeued: asNumber(requeued) === 1, description: parseDescription(description) };
}

export function parseAdmitReply(reply: unknown): AdmitReply | DrawDue {
  if (isDrawDue(reply)) return DRAW_DUE;
  const fields = asArray(reply);
  return { admitted: asNumber(fields[0]), live: asNumber(fields[1]) };
}

export function parseCount(reply: unknown): number | DrawDue {
  if (isDrawDue(reply)) return DRAW_DUE;
  return asNumber(reply);
}

/** What a drawer reads of a concert: its on-sale time, whether the draw is applied, who pre-queued. */
export interface PrequeueReply {
  opensAtMs: number | null;
  drawn: boolean;
  arrivals: string[];
}

export function parsePrequeueReply(reply: unknown): PrequeueReply {
  const [opensAt, drawn, ...arrivals] = asArray(reply);
  return { opensAtMs: optionalNumber(opensAt), drawn: asNumber(drawn) === 1, arrivals: arrivals.map(asString) };
}

function optionalNumber(value: unknown): number | null {
  return value === '' ? null : asNumber(value);
}

function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw unexpected(value);
  return value;
}

function asString(value: unknown): string {
  if (typeof value !== 'string') throw unexpected(value);
  return value;
}

function asNumber(value: unknown): number {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw unexpected(value);
  return number;
}

function asStatus(value: unknown): TokenStatus {
  if (value === 'WAITING' || value === 'ACTIVE') return value;
  throw unexpected(value);
}

function unexpected(value: unknown): Error {
  return new Error(`token queue: unexpected script reply ${JSON.stringify(value)}`);
}
