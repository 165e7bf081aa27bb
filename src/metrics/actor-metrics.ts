/**
 * What operators read of the actors. Per-schedule series exist only for the `topN` hottest actors
 * (by heat: messages per second lately), so cardinality stays bounded however many schedules are
 * live; figures over every live actor are unlabelled (max, sum). The engine is read once per
 * scrape. On the baseline engines there are no actors: these read 0 and the counters stay 0.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { hottestActors } from '../engine/hottest-actors';
import type { ActorInfo, ReservationEngine } from '../engine/reservation-engine';
import type { ScheduleMessage } from '../actors/schedule-messages';
import { oncePerScrape } from './once-per-scrape';

/**
 * Every message an actor handles, pre-declared so its series exist from the start. A Record, so
 * a new message type that is not listed here fails to compile.
 */
const COMMANDS = Object.keys({ Hold: 1, Release: 1, Extend: 1, Pay: 1, Load: 1, Expire: 1 } satisfies Record<ScheduleMessage['type'], 1>);

export interface ActorObserver {
  answered(command: string, outcome: string, seconds: number): void;
  processed(command: string, busySeconds: number): void;
  holdExpired(): void;
}

export interface ActorMetrics {
  observer: ActorObserver;
  /** Gauges that read the engine at scrape time. */
  observeEngine(engine: ReservationEngine, topN: number): void;
}

/** Why an ask got no answer from its actor (actor-engine.ts, errorOutcome). */
const NO_ANSWER_OUTCOMES = ['timeout', 'mailbox_full', 'unavailable', 'outcome_unknown', 'error'];

function snapshotAgeSeconds(actor: ActorInfo, now: number): number | undefined {
  return actor.lastSnapshotAt === null ? undefined : (now - Date.parse(actor.lastSnapshotAt)) / 1000;
}

export function registerActorMetrics(registry: Registry): ActorMetrics {
  const registers = [registry];
  const messages = new Counter({
    name: 'ovation_actor_messages_total',
    help: 'Commands asked of schedule actors, by command and outcome (the reply kind, the rejection code, or why no answer came: timeout, mailbox_full, unavailable, outcome_unknown)',
    labelNames: ['command', 'outcome'] as const,
    registers,
  });
  const processing = new Histogram({
    name: 'ovation_actor_processing_seconds',
    help: 'How long one message kept its actor busy (decision, and recovery when it needed one; commits run behind)',
    labelNames: ['command'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers,
  });
  const answerSeconds = new Histogram({
    name: 'ovation_actor_answer_seconds',
    help: 'From asking an actor to its answer: mailbox wait, decision and commit',
    labelNames: ['command'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers,
  });
  const expired = new Counter({ name: 'ovation_holds_expired_total', help: 'Holds whose expiry was committed (seats available again)', registers });
  for (const command of COMMANDS) {
    processing.zero({ command });
    answerSeconds.zero({ command });
    // The outcomes alerts and dashboards watch for exist at 0 before the first refusal (Expire is
    // told by a timer, never asked: it has none).
    if (command !== 'Expire') for (const outcome of NO_ANSWER_OUTCOMES) messages.inc({ command, outcome }, 0);
  }

  return {
    observer: {
      answered(command, outcome, seconds) {
        messages.inc({ command, outcome });
        answerSeconds.observe({ command }, seconds);
      },
      processed: (command, busySeconds) => processing.observe({ command }, busySeconds),
      holdExpired: () => expired.inc(),
    },
    observeEngine(engine, topN) {
      const read = oncePerScrape(() => {
        const actors = engine.actors();
        return { actors, top: hottestActors(actors, topN), now: Date.now() };
      });
      const whole = (name: string, help: string, value: (actors: ActorInfo[], now: number) => number) =>
        new Gauge({
          name,
          help,
          registers,
          async collect() {
            const { actors, now } = await read();
            this.set(value(actors, now));
          },
        });
      const perHottest = (name: string, help: string, value: (actor: ActorInfo, now: number) => number | undefined) =>
        new Gauge({
          name,
          help: `${help} (the ${topN} hottest actors)`,
          labelNames: ['schedule_id'] as const,
          registers,
          async collect() {
            const { top, now } = await read();
            this.reset();
            for (const actor of top) {
              const v = value(actor, now);
              if (v !== undefined) this.set({ schedule_id: actor.scheduleId }, v);
            }
          },
        });
      const sum = (actors: ActorInfo[], pick: (a: ActorInfo) => number) => actors.reduce((total, a) => total + pick(a), 0);
      const max = (values: number[]) => values.reduce((m, v) => Math.max(m, v), 0);

      whole('ovation_actors_live', 'Schedule actors in memory', (actors) => actors.length);
      whole('ovation_actor_mailbox_depth_max', 'Deepest mailbox over every live actor', (actors) => max(actors.map((a) => a.mailboxDepth)));
      whole('ovation_actor_mailbox_depth_total', 'Messages waiting over every live actor', (actors) => sum(actors, (a) => a.mailboxDepth));
      whole('ovation_holds_active', 'Live holds (reservations) over every live actor', (actors) => sum(actors, (a) => a.activeHolds));
      whole('ovation_snapshot_age_seconds', 'Oldest last snapshot over live actors that have one (0 when none)', (actors, now) =>
        max(actors.map((a) => snapshotAgeSeconds(a, now) ?? 0)),
      );
      whole('ovation_snapshot_lag_events_max', 'Most journal events any live actor would replay past its snapshot on recovery', (actors) =>
        max(actors.map((a) => a.journalSeq - a.snapshotSeq)),
      );
      perHottest('ovation_actor_heat', 'Messages per second lately, per schedule', (a) => a.heat);
      perHottest('ovation_actor_mailbox_depth', 'Messages waiting in a schedule actor mailbox', (a) => a.mailboxDepth);
      perHottest('ovation_actor_held_seats', 'Seats held (committed) per schedule actor', (a) => a.heldSeats);
      perHottest('ovation_actor_sold_seats', 'Seats sold per schedule actor', (a) => a.soldSeats);
      perHottest('ovation_actor_journal_seq', 'Last journal sequence number per schedule actor', (a) => a.journalSeq);
      perHottest('ovation_actor_snapshot_age_seconds', 'Seconds since the last snapshot per schedule actor', snapshotAgeSeconds);
    },
  };
}
