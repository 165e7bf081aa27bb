/**
 * Recovery time of one schedule whose journal holds 1,000,000 events: from the latest snapshot
 * plus the journal after it (what the actor does), against a replay from zero.
 *
 *   npx ts-node --transpile-only bench/journal/recovery-bench.ts [--events 1000000] [--tail 10000]
 */
import { CatalogueRepository } from '../../src/persistence/catalogue-repository';
import { loadJournal, saveSnapshot } from '../../src/persistence/journal-store';
import { recoverSchedule } from '../../src/actors/schedule-recovery';
import { applyEvent, emptyState } from '../../src/domain/schedule-state';
import { toSnapshot } from '../../src/domain/schedule-snapshot';
import { freshDatabase } from './bench-db';
import { machine } from './stats';

const SEATS = 100_000;
/** Holds still live at the end (the rest of the events are hold/release pairs). */
const LIVE_HOLDS = 50_000;
/** Only dates holds of pre-heldAt snapshots (none here). */
const HOLD_TTL_MS = 300_000;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index < 0 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const events = flag('--events', 1_000_000);
  const tail = flag('--tail', 10_000);
  const env = machine();
  console.log(`recovery bench: ${env.cpus} cores (${env.model}), node ${env.node}; ${events} events, snapshot ${tail} events before the end`);
  const db = await freshDatabase(4);
  try {
    const catalogue = new CatalogueRepository(db.pool);
    const concert = await catalogue.createConcert({
      title: 'recovery bench',
      schedules: [{ startsAt: '2027-01-01T19:00:00Z', seatCount: SEATS, price: 1_000 }],
    });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const pairs = (events - LIVE_HOLDS) / 2;
    let started = Date.now();
    // Events 1..2*pairs: hold k then release k (seat cycling); then LIVE_HOLDS holds that stay.
    await db.pool.query(
      `INSERT INTO journal (schedule_id, seq, type, payload)
       SELECT $1, g,
              CASE WHEN g <= $2 * 2 AND g % 2 = 0 THEN 'HoldReleased' ELSE 'SeatsHeld' END,
              CASE WHEN g <= $2 * 2 AND g % 2 = 0
                THEN jsonb_build_object('type', 'HoldReleased', 'reservationId', md5(k::text)::uuid, 'at', 0)
                ELSE jsonb_build_object('type', 'SeatsHeld', 'reservationId', md5(k::text)::uuid, 'userId', md5('u' || k)::uuid,
                       'seatNos', jsonb_build_array((k - 1) % $3 + 1), 'amount', 1000, 'expiresAt', 4102444800000, 'at', 0)
              END
       FROM generate_series(1, $4::int) AS g, LATERAL (SELECT CASE WHEN g <= $2 * 2 THEN (g + 1) / 2 ELSE g - $2 END AS k) AS keys`,
      [scheduleId, pairs, SEATS, events],
    );
    console.log(`wrote ${events} journal events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const load = (id: string) => catalogue.loadSeatCatalogue(id);

    started = Date.now();
    const fromZero = await recoverSchedule(db.pool, scheduleId, load, HOLD_TTL_MS);
    const zeroSeconds = (Date.now() - started) / 1000;
    console.log(`replay from zero: ${zeroSeconds.toFixed(2)} s (${fromZero.replayed} events, ${fromZero.state.holds.size} live holds)`);

    const upTo = events - tail;
    const state = emptyState(scheduleId, (await load(scheduleId))!);
    for (const entry of await loadJournal(db.pool, scheduleId, 0)) {
      if (entry.seq > upTo) break;
      applyEvent(state, entry.event);
    }
    await saveSnapshot(db.pool, scheduleId, toSnapshot(state));

    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      const recovered = await recoverSchedule(db.pool, scheduleId, load, HOLD_TTL_MS);
      runs.push(performance.now() - started);
      if (recovered.state.seq !== events || recovered.state.holds.size !== fromZero.state.holds.size) {
        throw new Error('recovery from the snapshot does not match the replay from zero');
      }
    }
    runs.sort((a, b) => a - b);
    console.log(
      `snapshot (seq ${upTo}, ${state.holds.size} holds) + ${tail} events: median ${runs[2]!.toFixed(0)} ms, max ${runs[4]!.toFixed(0)} ms over 5 runs` +
        ` (catalogue load included); ×${(zeroSeconds * 1000 / runs[2]!).toFixed(1)} faster than from zero`,
    );
  } finally {
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
