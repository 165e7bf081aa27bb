/**
 * The environment of each instance of a local cluster: what the caller's environment says, plus
 * what makes instance i itself (its port and advertised URL) and what all of them must share (the
 * cluster secret). Pure, so the rules are easy to read and test.
 */
import { randomBytes } from 'node:crypto';

/**
 * Cluster mode needs the real services: instances share PostgreSQL (the journal and the fencing
 * epochs), Redis (the waiting line) and Kafka (the ownership group). Embedded mode would give each
 * instance its own database and line, i.e. N unrelated servers that sell the same seats.
 */
export const REQUIRED_SERVICES = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'] as const;

export class ClusterConfigError extends Error {}

export type Env = Record<string, string | undefined>;

/** Throws a message naming every missing variable, so one attempt tells the whole story. */
export function checkRequiredServices(env: Env): void {
  const missing = REQUIRED_SERVICES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ClusterConfigError(
      `cluster mode needs the real services, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set ` +
        `(npm run services:up starts them; e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/ovation ` +
        `REDIS_URL=redis://127.0.0.1:6379 KAFKA_BROKERS=127.0.0.1:9092)`,
    );
  }
}

/** The caller's secret, or one random value for this cluster's life (every instance gets the same). */
export function clusterSecret(env: Env): string {
  return env.CLUSTER_SECRET || randomBytes(32).toString('hex');
}

export function instanceUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** Everything of `base` passes through; the instance's own values win over it. */
export function instanceEnv(base: Env, port: number, secret: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  return {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    CLUSTER_ADVERTISE_URL: instanceUrl(port),
    CLUSTER_SECRET: secret,
  };
}
