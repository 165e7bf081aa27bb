/**
 * Spawns one actor per schedule on first use and passivates actors that have been idle (no
 * live holds, nothing queued or in flight) for `idleMs`, so memory follows the working set.
 */
import { ActorRuntime, type ActorMailbox } from './actor-runtime';
import { ScheduleActor, type ScheduleActorDeps, type ScheduleMessage, type ScheduleReply } from './schedule-actor';

export interface ScheduleEntry {
  actor: ScheduleActor;
  mailbox: ActorMailbox<ScheduleMessage, ScheduleReply>;
  lastUsed: number;
}

export interface RegistryOptions {
  mailboxCapacity: number;
  idleMs: number;
}

export class ScheduleRegistry {
  private readonly runtime = new ActorRuntime();
  private readonly entries = new Map<string, ScheduleEntry>();
  private spawned = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: ScheduleActorDeps,
    private readonly options: RegistryOptions,
  ) {}

  start(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.passivateIdle(Date.now()), Math.max(50, this.options.idleMs / 4));
    this.sweeper.unref();
  }

  get(scheduleId: string): ScheduleEntry {
    let entry = this.entries.get(scheduleId);
    if (!entry) {
      const actor = new ScheduleActor(scheduleId, this.deps);
      // A fresh nact name each spawn: a passivated actor's name may not be released yet.
      const mailbox = this.runtime.spawn(`schedule-${scheduleId}-${++this.spawned}`, actor, this.options.mailboxCapacity);
      actor.attach(mailbox);
      entry = { actor, mailbox, lastUsed: Date.now() };
      this.entries.set(scheduleId, entry);
    }
    entry.lastUsed = Date.now();
    return entry;
  }

  all(): ScheduleEntry[] {
    return [...this.entries.values()];
  }

  passivateIdle(now: number): void {
    for (const [scheduleId, entry] of this.entries) {
      const idle = now - entry.lastUsed >= this.options.idleMs;
      if (idle && entry.actor.liveHolds === 0 && entry.mailbox.depth === 0 && entry.mailbox.inFlight === 0) {
        this.entries.delete(scheduleId);
        void entry.actor.drain().then(() => {
          entry.mailbox.stop();
          entry.actor.dispose();
        });
      }
    }
  }

  /** Stops taking work, waits for every mailbox and commit in flight, then stops the actors. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => drainEntry(entry)));
    for (const entry of entries) {
      entry.mailbox.stop();
      entry.actor.dispose();
    }
    this.runtime.stop();
  }
}

async function drainEntry(entry: ScheduleEntry): Promise<void> {
  // Asks still queued or waiting for their commit settle (or time out) before we stop.
  while (entry.mailbox.depth > 0 || entry.mailbox.inFlight > 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await entry.actor.drain();
}
