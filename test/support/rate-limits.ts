/**
 * The rate limits of test servers. Test clients are machines on one address (a hold/cancel loop
 * per token, 50 tokens of one user in a loop, hundreds of users from 127.0.0.1), far beyond what
 * the production defaults allow a human, so suites that are not about rate limiting get limits
 * nobody reaches. They are not off: every issue and hold still goes through the limiter and its
 * Redis script, so a limiter that broke a request would break those suites too. Rate limiting
 * itself is proven with tight limits in test/integration/rate-limit.int.spec.ts. A suite may set
 * its own values (they override these).
 */
export const GENEROUS_RATE_LIMITS: Readonly<Record<string, string>> = {
  RATE_LIMIT_TOKEN_ISSUE_PER_USER: '1000000',
  RATE_LIMIT_TOKEN_ISSUE_PER_IP: '1000000',
  RATE_LIMIT_HOLDS_PER_TOKEN: '1000000',
};
