/** Turns a Queue-Token header into the user it speaks for, or the problem that stops the request. */
import { Problem } from '../http/problem';
import type { TokenLookup, TokenQueue } from '../queue/token-queue';

export interface TokenHolder {
  token: string;
  userId: string;
  concertId: string;
}

export class TokenGuard {
  constructor(private readonly queue: TokenQueue) {}

  async lookup(token: string | undefined): Promise<{ token: string; lookup: TokenLookup }> {
    if (token === undefined || token === '') throw new Problem('TOKEN_MISSING');
    return { token, lookup: await this.queue.lookup(token) };
  }

  /** The holder of an ACTIVE token, checked against the concert the request is about. */
  async requireActive(header: string | undefined, concertId?: string): Promise<TokenHolder> {
    const { token, lookup } = await this.lookup(header);
    return activeHolder(token, lookup, concertId);
  }
}

export function activeHolder(token: string, lookup: TokenLookup, concertId?: string): TokenHolder {
  if (lookup.kind !== 'live') throw new Problem('TOKEN_INVALID');
  const { info } = lookup;
  if (info.status !== 'ACTIVE') {
    throw new Problem('TOKEN_NOT_ACTIVE', `the token is WAITING at position ${info.position}`);
  }
  if (concertId !== undefined && info.concertId !== concertId) throw new Problem('TOKEN_WRONG_CONCERT');
  return { token, userId: info.userId, concertId: info.concertId };
}
