/** The X-Admin-Key check of every admin and ops data route, in constant time. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Problem } from './problem';

/** Constant-time equality of a given secret with the expected one (admin key, cluster secret). */
export function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An onRequest hook: 403 ADMIN_KEY_INVALID unless the request carries the admin key. */
export function adminKeyRequired(adminApiKey: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const key = request.headers['x-admin-key'];
    if (typeof key !== 'string' || !sameKey(key, adminApiKey)) throw new Problem('ADMIN_KEY_INVALID');
  };
}
