/**
 * Kafka brokers for tests. Most tests share the broker that `npm run services:up` starts on 9092;
 * a test that stops, kills or restarts a broker gets one of its own (scripts/kafka.sh on two free
 * ports with its own data dir under .services/), so it never disturbs the shared one.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server-process';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts', 'kafka.sh');

/** The shared broker (scripts/services-up.sh starts it); never stop it from a test. */
export const SHARED_KAFKA_BROKERS = process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092';

export interface PrivateKafka {
  /** "127.0.0.1:<port>", for the client's `brokers` option. */
  brokers: string;
  port: number;
  /** SIGTERM and wait (clean shutdown); the data stays. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash); the data stays, recovered on the next start. */
  kill(): Promise<void>;
  /** (Re)starts on the same ports and data; resolves once the broker answers metadata requests. */
  start(): Promise<void>;
  /** Stops the broker and deletes its data dir. */
  remove(): Promise<void>;
}

type Command = 'start' | 'stop' | 'kill';

// kafka.sh waits up to 60 s for a start and 20 s (then SIGKILL) for a stop; these leave room
// for that. The first start on a machine also fetches the jars from Maven Central (~10 s).
const TIMEOUT_MS: Record<Command, number> = { start: 120_000, stop: 40_000, kill: 20_000 };

async function kafkaScript(command: Command, env: Record<string, string>): Promise<void> {
  try {
    await execFileAsync('bash', [SCRIPT, command], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: TIMEOUT_MS[command],
      killSignal: 'SIGKILL',
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`scripts/kafka.sh ${command} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

async function twoFreePorts(): Promise<[number, number]> {
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  return [port, controllerPort];
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  // A free port can be taken by someone else before the broker binds it; then try new ports.
  for (let attempt = 1; ; attempt++) {
    const [port, controllerPort] = await twoFreePorts();
    // The suffix keeps two helpers that got the same port (a race) off each other's data.
    const dataDir = path.join(ROOT, '.services', `kafka-test-${port}-${randomBytes(3).toString('hex')}`);
    const env = {
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_DATA_DIR: dataDir,
    };
    const remove = async (): Promise<void> => {
      await kafkaScript('stop', env);
      await rm(dataDir, { recursive: true, force: true });
    };
    try {
      await kafkaScript('start', env);
      // kafka.sh says "up" for any broker already answering on the port; ours wrote a pid file.
      await access(path.join(dataDir, 'kafka.pid')).catch(() => {
        throw new Error(`port ${port} is taken by another broker`);
      });
    } catch (error) {
      await kafkaScript('kill', env).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
      if (attempt >= 3 || !/Address already in use|is taken/.test(String(error))) throw error;
      continue;
    }
    return {
      brokers: `127.0.0.1:${port}`,
      port,
      stop: () => kafkaScript('stop', env),
      kill: () => kafkaScript('kill', env),
      start: () => kafkaScript('start', env),
      remove,
    };
  }
}
