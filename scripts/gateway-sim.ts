/**
 * Runs the card gateway simulator (npm run gateway:sim -- --decline-rate 0.1 ...); the flags set
 * its starting knobs, PUT /_control changes them while it runs. See docs/payment-gateway.md.
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_KNOBS,
  KnobError,
  mergeKnobs,
  type OutageWindow,
  type SimulatorKnobs,
} from '../src/payments/gateway-simulator-faults';
import { startGatewaySimulator, type GatewaySimulatorOptions } from '../src/payments/gateway-simulator';

/** Numeric flags and the knob each sets; the knob's own validation decides the range. */
const NUMERIC_FLAGS = {
  'latency-ms': 'latencyMs',
  'latency-jitter-ms': 'latencyJitterMs',
  'decline-rate': 'declineRate',
  'error-rate': 'errorRate',
  'timeout-rate': 'timeoutRate',
  'hang-ms': 'hangMs',
  seed: 'seed',
} as const satisfies Record<string, keyof SimulatorKnobs>;

const USAGE = `usage: npm run gateway:sim -- [--port 4010] [--host 127.0.0.1] [--latency-ms 20]
  [--latency-jitter-ms 0] [--decline-rate 0..1] [--error-rate 0..1] [--timeout-rate 0..1]
  [--hang-ms 30000] [--outage-window <startSeconds>-<endSeconds> ...] [--seed <int>]`;

class UsageError extends Error {}

function parseOptions(argv: string[]): GatewaySimulatorOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'outage-window': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }

  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  const host = String(values.host);
  if (host === '') throw new UsageError('--host must not be empty');

  const given = values as Record<string, unknown>; // the numeric flags are typed by a spread parseArgs cannot see
  const knobs: Record<string, unknown> = {};
  for (const [flag, knob] of Object.entries(NUMERIC_FLAGS)) {
    const raw = given[flag];
    if (typeof raw !== 'string') continue;
    // Number('') is 0; an empty value is a mistake, so make it NaN and let the knob rule reject it.
    knobs[knob] = raw.trim() === '' ? Number.NaN : Number(raw);
  }
  const windows = values['outage-window'] as string[];
  if (windows.length > 0) knobs.outageWindows = windows.map(parseWindow);
  try {
    mergeKnobs(DEFAULT_KNOBS, knobs); // the simulator's own rules, checked here to name the flag
  } catch (error) {
    if (!(error instanceof KnobError)) throw error;
    const flag = Object.entries(NUMERIC_FLAGS).find(([, knob]) => knob === error.knob)?.[0] ?? 'outage-window';
    throw new UsageError(`--${flag} must be ${error.expectation}, got "${String(given[flag])}"`);
  }
  return { port, host, ...(knobs as Partial<SimulatorKnobs>) };
}

function parseWindow(raw: string): OutageWindow {
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(raw.trim());
  const startSeconds = Number(match?.[1]);
  const endSeconds = Number(match?.[2]);
  if (!match || startSeconds >= endSeconds) {
    throw new UsageError(`--outage-window must be <startSeconds>-<endSeconds> with start < end (e.g. 30-45), got "${raw}"`);
  }
  return { startSeconds, endSeconds };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const simulator = await startGatewaySimulator(options);
  console.log(`payment gateway simulator listening on ${simulator.url}`);
  console.log(`knobs: ${JSON.stringify(simulator.knobs())}`);
  console.log(`change them at runtime: curl -X PUT ${simulator.url}/_control -d '{"declineRate":0.2}'`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`${signal}: stopping`);
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(error); // e.g. EADDRINUSE
  process.exit(1);
});
