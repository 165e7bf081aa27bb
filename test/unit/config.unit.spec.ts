import { ConfigError, loadConfig } from '../../src/config';

describe('configuration', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      engine: 'actor',
      holdTtlSeconds: 300,
      holdMaxSeconds: 900,
      maxSeatsPerHold: 4,
      queueMaxActive: 1000,
      queueActiveTtlSeconds: 600,
      kafkaTopicConfirmed: 'reservations.confirmed',
      kafkaBrokers: [],
      gateway: { url: undefined, timeoutMs: 3000, retries: 2, breakerThreshold: 0.5, concurrency: 32 },
      outbox: { batchSize: 500, retentionHours: 72 },
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['HOLD_TTL_SECONDS', '0'],
    ['HOLD_TTL_SECONDS', '1.5'],
    ['MAX_SEATS_PER_HOLD', '-1'],
    ['QUEUE_MAX_ACTIVE', 'many'],
    ['QUEUE_ACTIVE_TTL_SECONDS', ''.padEnd(3, '9') + 'x'],
    ['RESERVATION_ENGINE', 'redlock'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'not a url'],
    ['KAFKA_BROKERS', 'localhost'],
    ['PAYMENT_GATEWAY_URL', 'ftp://gateway'],
    ['LOG_LEVEL', 'loud'],
    ['ADMIN_API_KEY', 'short'],
    ['JOURNAL_MAX_BATCH', '0'],
    ['PAYMENT_BREAKER_FAILURE_RATE', '1'],
    ['PAYMENT_BREAKER_FAILURE_RATE', 'half'],
    ['PAYMENT_GATEWAY_TIMEOUT_MS', '0'],
    ['PAYMENT_GATEWAY_QUEUE', '-1'],
    ['OUTBOX_BATCH_SIZE', '0'],
    ['HOLD_MAX_SECONDS', '0'],
    ['HOLD_MAX_SECONDS', 'long'],
  ])('when %s is %p, then start-up stops with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} must be`));
  });

  it('when values are valid, then they are taken', () => {
    const config = loadConfig({
      RESERVATION_ENGINE: 'lock',
      REDIS_URL: 'redis://cache:6379',
      KAFKA_BROKERS: 'a:9092, b:9093',
      HOLD_TTL_SECONDS: '60',
    });
    expect([config.engine, config.redisUrl, config.kafkaBrokers, config.holdTtlSeconds]).toEqual(['lock', 'redis://cache:6379', ['a:9092', 'b:9093'], 60]);
  });

  it.each([{}, { REDIS_URL: '' }])('when REDIS_URL is unset or empty (%p), then it is undefined: the waiting line runs in the process', (env) => {
    expect(loadConfig(env).redisUrl).toBeUndefined();
    expect(loadConfig({ ...env, RESERVATION_ENGINE: 'sql' }).redisUrl).toBeUndefined();
  });

  it('when RESERVATION_ENGINE is lock and REDIS_URL is unset, then start-up stops naming REDIS_URL (the lock engine locks seats in Redis)', () => {
    expect(() => loadConfig({ RESERVATION_ENGINE: 'lock' })).toThrow(ConfigError);
    expect(() => loadConfig({ RESERVATION_ENGINE: 'lock', REDIS_URL: '' })).toThrow(/^Invalid configuration: REDIS_URL must be set .*RESERVATION_ENGINE is lock/);
  });

  it('when HOLD_MAX_SECONDS is below HOLD_TTL_SECONDS, then start-up stops naming it; unset, it is 900 or the TTL when that is longer', () => {
    expect(() => loadConfig({ HOLD_TTL_SECONDS: '300', HOLD_MAX_SECONDS: '299' })).toThrow(/^Invalid configuration: HOLD_MAX_SECONDS must be at least HOLD_TTL_SECONDS \(300\)/);
    expect(loadConfig({ HOLD_TTL_SECONDS: '300', HOLD_MAX_SECONDS: '300' }).holdMaxSeconds).toBe(300);
    expect(loadConfig({ HOLD_TTL_SECONDS: '1200' }).holdMaxSeconds).toBe(1200);
    expect(loadConfig({ HOLD_MAX_SECONDS: '3600' }).holdMaxSeconds).toBe(3600);
  });

  it('when a URL or the admin key is refused, then the message names the variable but never shows a secret', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    const wrongScheme = refusal({ DATABASE_URL: 'mysql://app:s3cret-pw@db:3306/x' });
    expect(wrongScheme).toContain('DATABASE_URL');
    expect(wrongScheme).toContain('mysql://app:***@db:3306/x');
    const unparsable = refusal({ REDIS_URL: 'redis//user:s3cret-pw@@' });
    expect(unparsable).toContain('REDIS_URL');
    const shortKey = refusal({ ADMIN_API_KEY: 's3cret' });
    expect(shortKey).toContain('ADMIN_API_KEY');
    expect([wrongScheme, unparsable, shortKey].filter((message) => message.includes('s3cret'))).toEqual([]);
  });
});
