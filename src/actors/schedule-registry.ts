/**
 * Spawns one actor per schedule on first use and passivates actors that have been idle (no
 * live holds, nothing queued or in flight) for `idleMs`, so memory follows the working set.
 */
import { ActorRuntime, type ActorMailbox } from './actor-runtime';
import { HeatMeter } from './heat-meter';
import { ScheduleActor } from './schedule-actor';
import type { ScheduleActorDeps, ScheduleMessage, ScheduleReply } from './schedule-messages';

export interface ScheduleEntry {
  actor: ScheduleActor;
  mailbox: ActorMailbox<ScheduleMessage, ScheduleReply>;
  lastUsed: number;
  /** Messages per second lately: what "hottest" means for operators (admin endpoint, metrics). */
  heat: HeatMeter;
}

export interface RegistryOptions {
  mailboxCapacity: number;
  idleMs: number;
  /** How long a graceful stop waits for mailboxes and commits before it gives up on them. */
  drainTimeoutMs: number;
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
      const heat = new HeatMeter();
      const observer = this.deps.observer;
      // A fresh nact name each spawn: a passivated actor's name may not be released yet.
      const mailbox = this.runtime.spawn(`schedule-${scheduleId}-${++this.spawned}`, actor, this.options.mailboxCapacity, (message, seconds) => {
        heat.record(Date.now());
        observer?.processed?.(message.type, seconds);
      });
      actor.attach(mailbox);
      entry = { actor, mailbox, lastUsed: Date.now(), heat };
      this.entries.set(scheduleId, entry);
    }
    entry.lastUsed = Date.now();
    return entry;
  }

  /** The live entry, if any: never spawns (listings must not fill memory with actors). */
  peek(scheduleId: string): ScheduleEntry | undefined {
    return this.entries.get(scheduleId);
  }

  all(): ScheduleEntry[] {
    return [...this.entries.values()];
  }

  /**
   * Only an actor with nothing to do is passivated: no live hold (no timer to keep), nothing
   * queued, no ask waiting, not handling a message, no commit in flight. So the next spawn for
   * the schedule recovers exactly what this one had, and the two never write at once.
   */
  passivateIdle(now: number): void {
    for (const [scheduleId, entry] of this.entries) {
      const { actor, mailbox } = entry;
      const idle = now - entry.lastUsed >= this.options.idleMs;
      const quiet = mailbox.depth === 0 && mailbox.inFlight === 0 && !actor.busy && actor.writerIdle;
      if (idle && quiet && actor.liveHolds === 0) {
        this.entries.delete(scheduleId);
        actor.retire();
        mailbox.stop();
      }
    }
  }

  /**
   * Hands schedules over (a cluster lost their partition): each matching actor finishes what it
   * was asked and what it committed, then stops, freeing its memory and its expiry timers. Asks
   * that arrive meanwhile are answered 503 by the actor itself (it no longer holds the fence).
   */
  async release(matches: (scheduleId: string) => boolean): Promise<number> {
    const leaving = [...this.entries.entries()].filter(([scheduleId]) => matches(scheduleId));
    const deadline = Date.now() + this.options.drainTimeoutMs;
    await Promise.all(leaving.map(([, entry]) => drainEntry(entry, deadline)));
    for (const [scheduleId, entry] of leaving) {
      if (this.entries.get(scheduleId) === entry) this.entries.delete(scheduleId);
      entry.actor.retire();
      entry.mailbox.stop();
    }
    return leaving.length;
  }

  /** Stops taking work, waits for every mailbox and commit in flight, then stops the actors. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const entries = [...this.entries.values()];
    const deadline = Date.now() + this.options.drainTimeoutMs;
    await Promise.all(entries.map((entry) => drainEntry(entry, deadline)));
    this.entries.clear();
    for (const entry of entries) {
      entry.actor.retire();
      entry.mailbox.stop(); // fails whatever is still waiting (only past the deadline) with 503
    }
    this.runtime.stop();
  }
}

/** Asks still queued or waiting for their commit settle (or time out) before the actor stops. */
async function drainEntry(entry: ScheduleEntry, deadline: number): Promise<void> {
  while ((entry.mailbox.depth > 0 || entry.mailbox.inFlight > 0 || entry.actor.busy) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.race([entry.actor.drain(), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
}
