/**
 * The load-generator process (forked by the harness): receives one job, runs the scenario's
 * virtual users, reports the phases as they begin (so the harness samples the server's CPU and the
 * database counters over the same window) and the result, then exits.
 */
import { LoadRun } from './runner';
import type { HarnessMessage, WorkerMessage } from './protocol';
import { findScenario } from '../scenarios';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify(message));
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

async function run(message: HarnessMessage): Promise<void> {
  const scenario = findScenario(message.job.scenario);
  const load = new LoadRun(scenario, message.job, (phase) => {
    void send({ type: 'phase', phase, at: Date.now() });
  });
  const { stats, usage } = await load.execute();
  await send({ type: 'result', stats, usage });
}

process.once('message', (message: HarnessMessage) => {
  run(message).then(
    () => process.exit(0),
    async (error: unknown) => {
      await send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    },
  );
});
// The harness went away: nothing to report to.
process.on('disconnect', () => process.exit(2));
