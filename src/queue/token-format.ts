import { randomBytes } from 'node:crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 16 random bytes in base64url are always 22 characters without padding. */
const RANDOM_BYTES = 16;
const RANDOM_PART_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export interface ParsedToken {
  concertId: string;
  randomPart: string;
}

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * Concert ids are lower-cased so that the same concert always maps to the same
 * Redis keys, whatever casing a caller used.
 */
export function normalizeConcertId(concertId: string): string {
  return concertId.toLowerCase();
}

/** `<concertId>.<128 random bits>`: unguessable, and routes to the concert's keys on its own. */
export function generateToken(concertId: string): string {
  return `${normalizeConcertId(concertId)}.${randomBytes(RANDOM_BYTES).toString('base64url')}`;
}

export function parseToken(token: string): ParsedToken | null {
  if (typeof token !== 'string') return null;
  const separatorIndex = token.indexOf('.');
  if (separatorIndex < 0) return null;
  const concertId = token.slice(0, separatorIndex);
  const randomPart = token.slice(separatorIndex + 1);
  if (!isUuid(concertId) || !RANDOM_PART_PATTERN.test(randomPart)) return null;
  // A token carrying an upper-case concert id was never issued by us.
  if (concertId !== normalizeConcertId(concertId)) return null;
  return { concertId, randomPart };
}
