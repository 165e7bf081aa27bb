/**
 * `npm test`'s second pass: the behavioural end-to-end suites in embedded mode (embedded
 * PostgreSQL, in-process waiting line), the default of `npm start`.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: [
    '**/test/e2e/reservation-flow.e2e.spec.ts',
    '**/test/e2e/contention.e2e.spec.ts',
    '**/test/e2e/idempotency.e2e.spec.ts',
    '**/test/e2e/expiry-and-restart.e2e.spec.ts',
    '**/test/e2e/waiting-queue.e2e.spec.ts',
    '**/test/e2e/presale.e2e.spec.ts',
    '**/test/e2e/bad-input.e2e.spec.ts',
  ],
  globalSetup: '<rootDir>/test/support/embedded-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/embedded-global-teardown.ts',
};
