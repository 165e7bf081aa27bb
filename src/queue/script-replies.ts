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
      position: number;
      admissionsLastMinute: number;
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
    const activeUntil = asString(fields[4]);
    return {
      kind: 'live',
      token: asString(fields[1]),
      userId: asString(fields[2]),
      status: asStatus(fields[3]),
      activeUntilMs: activeUntil === '' ? null : asNumber(activeUntil),
      position: asNumber(fields[5]),
      admissionsLastMinute: asNumber(fields[6]),
    };
  }
  throw unexpected(reply);
}

export function parseIssueReply(reply: unknown): IssueReply {
  const [created, ...description] = asArray(reply);
  return { created: asNumber(created) === 1, description: parseDescription(description) };
}

export function parseLookupReply(reply: unknown): LookupReply {
  const [requeued, ...description] = asArray(reply);
  return { requeued: asNumber(requeued) === 1, description: parseDescription(description) };
}

export function parseAdmitReply(reply: unknown): AdmitReply {
  const fields = asArray(reply);
  return { admitted: asNumber(fields[0]), live: asNumber(fields[1]) };
}

export function parseCount(reply: unknown): number {
  return asNumber(reply);
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
