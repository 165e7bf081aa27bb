/**
 * N instances of the server on one machine behind a round-robin front: the front on `port`,
 * instance i (1..N) on port + i. Used by `npm run cluster` and by the cluster tests.
 */
import path from 'node:path';
import { checkRequiredServices, clusterSecret, instanceEnv, type Env } from './cluster-env';
import { freePortRange } from './free-port-range';
import { startInstance, type InstanceProcess } from './instance-process';
import { startRoundRobinFront, type RoundRobinFront } from './round-robin-front';

const ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_LOG_DIR = path.join(ROOT, '.ovation', 'cluster');

export interface LocalClusterOptions {
  instances: number;
  /** The front's port; instances take the next ones. Default: a free run of ports. */
  port?: number;
  /** The instances' environment (default: this process's). DATABASE_URL, REDIS_URL and KAFKA_BROKERS must be set. */
  env?: Env;
  /** Where instance-<i>.log go (default .ovation/cluster). */
  logDir?: string;
  readyTimeoutMs?: number;
  /** Run this built server entry (node <entry>) instead of src/main.ts through ts-node (the bench does). */
  serverEntry?: string;
}

export interface LocalCluster {
  frontUrl: string;
  instances: InstanceProcess[];
  /** SIGTERM to every instance (graceful), wait for their exits, close the front. */
  stop(): Promise<void>;
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const env = options.env ?? process.env;
  checkRequiredServices(env);
  if (!Number.isInteger(options.instances) || options.instances < 1) throw new Error(`instances must be a positive integer, not ${options.instances}`);
  const port = options.port ?? (await freePortRange(options.instances + 1));
  const logDir = options.logDir ?? DEFAULT_LOG_DIR;
  const secret = clusterSecret(env);
  const ports = Array.from({ length: options.instances }, (_, i) => port + 1 + i);

  // Started together: each joins the group, and the group settles once all have joined.
  const started = await Promise.allSettled(
    ports.map((instancePort, i) =>
      startInstance({
        index: i + 1,
        port: instancePort,
        env: instanceEnv(env, instancePort, secret),
        logFile: path.join(logDir, `instance-${i + 1}.log`),
        readyTimeoutMs: options.readyTimeoutMs,
        ...(options.serverEntry ? { serverEntry: options.serverEntry } : {}),
      }),
    ),
  );
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(instances.map((instance) => instance.kill('SIGTERM')));
    throw failed.reason;
  }

  let front: RoundRobinFront;
  try {
    front = await startRoundRobinFront({ port, upstreams: instances.map((instance) => instance.url) });
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.kill('SIGTERM')));
    throw error;
  }
  return {
    frontUrl: front.url,
    instances,
    async stop() {
      // A stopped (SIGSTOP) instance would hold its SIGTERM until resumed.
      await Promise.all(instances.map(async (instance) => {
        if (instance.stopped) return;
        await instance.kill('SIGCONT');
        await instance.kill('SIGTERM');
      }));
      await front.close();
    },
  };
}
