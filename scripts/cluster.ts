/**
 * npm run cluster -- --instances 3 --port 3000
 * Several instances of the server on this machine (ports P+1..P+N) behind a round-robin front on
 * port P. SIGINT/SIGTERM drain every instance gracefully; the command exits when they have exited.
 * The machinery is in scripts/cluster/ (the tests use it too); this file is only the command line.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkRequiredServices, ClusterConfigError } from './cluster/cluster-env';
import { DEFAULT_LOG_DIR, startLocalCluster } from './cluster/local-cluster';

const USAGE = `usage: npm run cluster -- [--instances 3] [--port 3000]
  The front listens on --port, instance i on port + i. DATABASE_URL, REDIS_URL and KAFKA_BROKERS
  must be set (npm run services:up starts them); every other variable is passed to the instances.
  Logs: ${path.relative(process.cwd(), DEFAULT_LOG_DIR)}/instance-<i>.log`;

function parseOptions(argv: string[]): { instances: number; port: number } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      instances: { type: 'string', default: '3' },
      port: { type: 'string', default: '3000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const instances = Number(values.instances);
  const port = Number(values.port);
  if (!Number.isInteger(instances) || instances < 1 || instances > 32) throw new ClusterConfigError('--instances must be an integer from 1 to 32');
  if (!Number.isInteger(port) || port < 1 || port + instances > 65_535) throw new ClusterConfigError('--port must leave room for the instances below 65536');
  return { instances, port };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  checkRequiredServices(process.env);
  console.log(`starting ${options.instances} instances (logs in ${path.relative(process.cwd(), DEFAULT_LOG_DIR)}/) ...`);
  const cluster = await startLocalCluster(options);
  for (const instance of cluster.instances) console.log(`instance ${instance.index}  pid ${instance.pid}  ${instance.url}`);
  console.log(`front (round robin)  ${cluster.frontUrl}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: draining the instances (SIGTERM) ...`);
    cluster.stop().then(
      () => {
        console.log('every instance has stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('stop failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  // An instance that exits on its own is reported, not restarted (the point of a local cluster is
  // to watch the others take over); when none is left the command ends.
  await Promise.all(
    cluster.instances.map(async (instance) => {
      const code = await instance.exited;
      if (!stopping) console.error(`instance ${instance.index} (pid ${instance.pid}) exited: ${code}; see its log`);
    }),
  );
  if (!stopping) {
    console.error('every instance has exited');
    await cluster.stop();
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ClusterConfigError ? error.message : error);
  process.exit(error instanceof ClusterConfigError ? 2 : 1);
});
