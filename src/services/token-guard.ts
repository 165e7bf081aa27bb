/** Turns a Queue-Token header into the user it speaks for, or the problem that stops the request. */
import { AppError } from './app-error';
import type { TokenLookup, TokenQueue } from '../queue/token-queue';

export interface TokenHolder {
  token: string;
  userId: string;
  concertId: string;
}

interface Cached {
  lookup: TokenLookup;
  until: number;
}

/** Bound on remembered tokens; the oldest are forgotten first. */
const MAX_CACHED_TOKENS = 100_000;

export class TokenGuard {
  private readonly active = new Map<string, Cached>();

  /**
   * @param cacheMs how long an ACTIVE answer may be reused without asking Redis again (never past
   * the token's activeUntil; a payment on this instance forgets it at once). 0 disables it. The
   * cost of reuse: a token ended by a payment on another instance is still honoured here for at
   * most this long. Admission is throttling, not a seat invariant, so that is an acceptable trade
   * for one Redis round trip less per request.
   */
  constructor(
    private readonly queue: TokenQueue,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Exactly what Redis says now (position and ETA of a waiting token must be current). */
  async exact(header: string | undefined): Promise<{ token: string; lookup: TokenLookup }> {
    const token = present(header);
    return { token, lookup: await this.queue.lookup(token) };
  }

  /** What Redis says, or said less than `cacheMs` ago about an ACTIVE token. */
  async resolve(header: string | undefined): Promise<{ token: string; lookup: TokenLookup }> {
    const token = present(header);
    const now = this.now();
    const cached = this.active.get(token);
    if (cached && cached.until > now) return { token, lookup: cached.lookup };
    const lookup = await this.queue.lookup(token);
    if (this.cacheMs > 0 && lookup.kind === 'live' && lookup.info.status === 'ACTIVE' && lookup.info.activeUntil) {
      if (this.active.size >= MAX_CACHED_TOKENS) this.active.delete(this.active.keys().next().value!);
      this.active.set(token, { lookup, until: Math.min(now + this.cacheMs, Date.parse(lookup.info.activeUntil)) });
    }
    return { token, lookup };
  }

  /** The token was used (payment): never answer from memory for it again. */
  forget(token: string): void {
    this.active.delete(token);
  }
}

function present(header: string | undefined): string {
  if (header === undefined || header === '') throw new AppError('TOKEN_MISSING');
  return header;
}

export function activeHolder(token: string, lookup: TokenLookup, concertId?: string): TokenHolder {
  if (lookup.kind !== 'live') throw new AppError('TOKEN_INVALID');
  const { info } = lookup;
  if (info.status !== 'ACTIVE') {
    const place = info.position === null ? `in the pre-queue until ${info.opensAt}` : `at position ${info.position}`;
    throw new AppError('TOKEN_NOT_ACTIVE', `the token is WAITING ${place}`);
  }
  if (concertId !== undefined && info.concertId !== concertId) throw new AppError('TOKEN_WRONG_CONCERT');
  return { token, userId: info.userId, concertId: info.concertId };
}
