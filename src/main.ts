/** Starts the server: configuration, composition, listen; SIGTERM/SIGINT close it gracefully. */
import { ConfigError, loadConfig } from './config';
import { createOvation } from './runtime';
import { startBanner } from './banner';
import { seedDemoIfEmpty } from './demo-seed';

const SHUTDOWN_DEADLINE_MS = 45_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const { app, services } = await createOvation(config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight and draining the engine');
    // Every wait in the drain is bounded by its own timeout; this bounds their sum, so a dead link
    // can never keep a stopping process alive. What is acknowledged is committed already.
    setTimeout(() => {
      app.log.error(`shutdown did not finish in ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const demo = services.modes.database === 'embedded' ? await seedDemoIfEmpty(services.catalogue) : undefined;
  await app.listen({ port: config.port, host: config.host });
  app.log.info({ engine: config.engine, modes: services.modes }, 'ovation is serving');
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  console.log(startBanner(config, services.modes, `http://${shownHost}:${config.port}`, demo));
}

main().catch((error: unknown) => {
  console.error('ovation failed to start:', error);
  process.exit(1);
});
