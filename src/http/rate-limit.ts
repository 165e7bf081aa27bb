/**
 * Rate limits at the HTTP edge (api.md, "Errors and outcomes": 429 RATE_LIMITED with Retry-After).
 * The counting lives in src/queue/rate-limiter.ts (Redis, shared by every instance, fails open), or
 * in src/queue/memory-rate-limiter.ts when REDIS_URL is unset (embedded mode: one instance); this
 * file only picks the subject of each limit and turns a refusal into the problem.
 *
 * The defaults (src/config.ts, window RATE_LIMIT_WINDOW_SECONDS = 10 s), and why a real sale
 * tolerates them:
 * - POST /v1/queue/tokens, 10 per user: a token is issued once (asking again returns the same
 *   token) and then polled with GET …/current. A client that polls by POSTing again every 2 s sends
 *   5 per window, a user hammering reload a few more; 10 leaves room for both, and cuts a script
 *   asking 100 times a second down to 1.
 * - POST /v1/queue/tokens, 1,000 per client address: each distinct visitor behind an address asks
 *   about once, so this counts the new visitors behind it. Mobile carrier-grade NAT and campus or
 *   office NAT put hundreds of buyers behind one address in the first seconds of a big sale; 1,000
 *   per 10 s leaves them room, while one machine inventing user ids is held to 100 new places in
 *   line per second. IPv6 clients are counted per /64 (one subscriber's block: they can pick any
 *   address in it). The address is Fastify's `request.ip`: behind a reverse proxy or load balancer
 *   it is the proxy's address unless the app is built with `trustProxy` (not done in app.ts yet).
 * - POST /v1/reservations, 20 per token: a buyer who loses a seat (409) picks another and retries a
 *   few times a second at most; 20 per 10 s is a burst of 20 and 2 a second sustained. It also
 *   bounds a concert's hold traffic at QUEUE_MAX_ACTIVE × 2/s (2,000 holds/s at the defaults),
 *   below what one instance's actor engine answers (≈ 7,800 req/s on one hot seat, README
 *   "Benchmarks"), so a few scripted buyers cannot crowd the engine for everyone else.
 * - GET /v1/queue/tokens/current is NOT limited: it is how a WAITING token keeps its place
 *   (QUEUE_WAITING_TTL_SECONDS), so a refused poll would push a client that polls too eagerly out
 *   of the line; it is read-mostly and costs one Redis script, the same as a limit check would. A
 *   flood of polls is for the edge proxy (per address), not for a counter per token.
 * Cancels are not limited either: giving seats back is never blocked.
 *
 * Limits of 0 are off (the benchmarks and the test harness, whose virtual users are machines on
 * one address, switch them off). Every request counts, refused ones too.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitConfig } from '../config';
import type { RateDecision, RateLimiter, RateRule } from '../queue/rate-limiter';
import { parseToken } from '../queue/token-format';
import type { AppServices } from './app-services';
import { Problem } from './problem';
import type { IssueTokenBody } from './schemas';

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface RateLimitHooks {
  /** preHandler of POST /v1/queue/tokens (after body validation): per user and per address. */
  tokenIssue: PreHandler;
  /** preHandler of POST /v1/reservations: per Queue-Token. */
  holds: PreHandler;
}

interface Rules {
  issuePerUser: RateRule;
  issuePerAddress: RateRule;
  holdsPerToken: RateRule;
}

/** One limiter per app (the routes of one app share it). */
const built = new WeakMap<AppServices, RateLimitHooks>();

export function rateLimitHooks(services: AppServices): RateLimitHooks {
  let hooks = built.get(services);
  if (!hooks) {
    hooks = createRateLimitHooks(services.rateLimiter, services.config.rateLimits);
    built.set(services, hooks);
  }
  return hooks;
}

export function createRateLimitHooks(limiter: RateLimiter, config: RateLimitConfig): RateLimitHooks {
  const windowMs = config.windowSeconds * 1000;
  const rules: Rules = {
    issuePerUser: { name: 'issue-user', limit: config.tokenIssuePerUser, windowMs },
    issuePerAddress: { name: 'issue-ip', limit: config.tokenIssuePerIp, windowMs },
    holdsPerToken: { name: 'hold-token', limit: config.holdsPerToken, windowMs },
  };
  const every = `every ${config.windowSeconds} s`;

  return {
    async tokenIssue(request) {
      const { userId } = request.body as IssueTokenBody;
      const [perUser, perAddress] = await Promise.all([
        limiter.take(rules.issuePerUser, userId),
        limiter.take(rules.issuePerAddress, clientAddress(request.ip)),
      ]);
      logFailOpen(request, perUser, perAddress);
      refuseIfLimited([
        [perUser, `at most ${rules.issuePerUser.limit} token requests per user ${every}`],
        [perAddress, `at most ${rules.issuePerAddress.limit} token requests per client address ${every}`],
      ]);
    },

    async holds(request) {
      const token = request.headers['queue-token'];
      // A missing or malformed token is answered 401 by the service without touching Redis; it
      // must not cost a counter either.
      if (typeof token !== 'string' || !parseToken(token)) return;
      const perToken = await limiter.take(rules.holdsPerToken, token);
      logFailOpen(request, perToken);
      refuseIfLimited([[perToken, `at most ${rules.holdsPerToken.limit} holds per queue token ${every}`]]);
    },
  };
}

/** 429 with the longest wait among the refusing limits; the detail names the limit. */
function refuseIfLimited(checks: [RateDecision, string][]): void {
  const refused = checks.filter(([decision]) => !decision.allowed) as [Extract<RateDecision, { allowed: false }>, string][];
  if (refused.length === 0) return;
  const retryAfterSeconds = Math.max(...refused.map(([decision]) => decision.retryAfterSeconds));
  const limits = refused.map(([, limit]) => limit).join('; ');
  throw new Problem('RATE_LIMITED', `${limits}; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
}

function logFailOpen(request: FastifyRequest, ...decisions: RateDecision[]): void {
  for (const decision of decisions) {
    if (decision.allowed && decision.error !== undefined) {
      // Redis is down or slow: /health/ready reports it; one line per request would flood the log.
      request.log.debug({ err: decision.error }, 'rate limit not checked (Redis unavailable); request let through');
    }
  }
}

/**
 * The subject of the per-address limit: an IPv4 address as it is (also when IPv4-mapped), an
 * IPv6 address by its /64 prefix.
 */
export function clientAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  return ipv6Slash64(ip.split('%')[0]!) ?? ip;
}

function ipv6Slash64(address: string): string | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  // An embedded IPv4 tail (64:ff9b::1.2.3.4) fills the last two groups.
  const width = (list: string[]) => list.length + (list.at(-1)?.includes('.') ? 1 : 0);
  const zeros = halves.length === 2 ? Array<string>(Math.max(0, 8 - width(head) - width(tail))).fill('0') : [];
  const first4 = [...head, ...zeros, ...tail].slice(0, 4);
  if (first4.length < 4 || !first4.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return `${first4.map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
