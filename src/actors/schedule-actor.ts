/**
 * The actor that owns one schedule's seats. It decides every command against memory with the
 * pure rules of src/domain, applies the events at once (so the next command sees them:
 * pipelining) and hands them to its journal writer; the caller hears "yes" only when the
 * writer has committed them. If a commit fails, the writer rejects everything in flight and the
 * actor rebuilds its state from the database before it decides anything else.
 */
import type { ActorBehavior, ActorMailbox, Reply } from './actor-runtime';
import type { ScheduleActorDeps, ScheduleMessage, ScheduleReply } from './schedule-messages';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import { ActorCrashedError, ActorStoppedError } from './actor-errors';
import { JournalWriter } from './journal-writer';
import { ExpiryTimers } from './expiry-timers';
import { SeatMapView } from './seat-map-view';
import { recoverSchedule } from './schedule-recovery';
import { decide } from '../domain/decide';
import type { ScheduleEvent } from '../domain/schedule-events';
import { applyEffect, applyEvent, reserveSeq, type Hold, type ScheduleState, type SeatCatalogue } from '../domain/schedule-state';
import { toSnapshot } from '../domain/schedule-snapshot';
import { appendEventInTx, saveSnapshot, type JournalEntry } from '../persistence/journal-store';
import { recordPayment } from '../persistence/payment-transaction';
import type { Fence } from '../persistence/partition-owners-store';

/** One generation of in-memory state: dropped whole when a commit fails. */
interface Live {
  state: ScheduleState;
  /** In a cluster: the ownership epoch this generation was recovered under. */
  fence: Fence | undefined;
  view: SeatMapView;
  expiryTimers: ExpiryTimers;
  snapshotSeq: number;
  snapshotAt: Date | undefined;
  snapshotInFlight: boolean;
  recoveredAt: number;
  /** Holds whose payment is in flight, with the Pay messages that arrived for them meanwhile. */
  paying: Map<string, PendingPay[]>;
  /**
   * A snapshot is due but payments are in flight (their seqs are taken, their effects unknown):
   * new payments wait here until the in-flight ones finish and the snapshot is taken, so a steady
   * stream of payments cannot starve snapshots (and recovery time grow without bound).
   */
  snapshotWanted: boolean;
  deferredPays: PendingPay[];
}

interface PendingPay {
  message: Extract<ScheduleMessage, { type: 'Pay' }>;
  reply: Reply<ScheduleReply>;
}

export class ScheduleActor implements ActorBehavior<Live | null, ScheduleMessage, ScheduleReply> {
  private mailbox: ActorMailbox<ScheduleMessage, ScheduleReply> | undefined;
  private readonly writer: JournalWriter;
  private readonly now: () => number;
  /** The live generation, readable by the engine for the seat map and metrics. */
  private live: Live | null = null;
  private handling = false;
  private retired = false;
  /** Grades and prices never change: loaded once per actor, freed with it when it is passivated. */
  private catalogue: SeatCatalogue | undefined;

  constructor(
    readonly scheduleId: string,
    private readonly deps: ScheduleActorDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.writer = new JournalWriter(deps.db, deps.committer, scheduleId, deps.settings.writer, {
      failed: (error) => {
        deps.observer?.failed?.(error);
        // The in-memory state holds events that were not committed: readers must not see it,
        // and the actor recovers now rather than at the next request, so expiries keep running.
        this.dispose();
        this.mailbox?.tell({ type: 'Load' });
      },
    });
  }

  attach(mailbox: ActorMailbox<ScheduleMessage, ScheduleReply>): void {
    this.mailbox = mailbox;
  }

  get view(): SeatMapView | undefined {
    return this.live?.view;
  }

  get seq(): number {
    return this.live?.state.seq ?? 0;
  }

  get snapshotInfo(): { seq: number; at: Date | undefined } {
    return { seq: this.live?.snapshotSeq ?? 0, at: this.live?.snapshotAt };
  }

  get liveHolds(): number {
    return this.live?.state.holds.size ?? 0;
  }

  initialState(): Live | null {
    return null;
  }

  onCrash(): void {
    this.dispose();
  }

  /** Waits for every commit in flight (graceful shutdown, passivation). */
  drain(): Promise<void> {
    return this.writer.whenIdle();
  }

  dispose(): void {
    if (!this.live) return;
    this.live.expiryTimers.clearAll();
    for (const waiting of [...this.live.paying.values(), this.live.deferredPays]) {
      for (const { reply } of waiting) reply.fail(new ActorCrashedError(this.scheduleId));
    }
    this.live = null;
  }

  /** True while a message is being handled (the registry never passivates a busy actor). */
  get busy(): boolean {
    return this.handling;
  }

  /** Nothing queued or in flight in the journal writer. */
  get writerIdle(): boolean {
    return this.writer.idle;
  }

  /** Called by the registry when it retires this actor: no generation may start after this. */
  retire(): void {
    this.retired = true;
    this.dispose();
  }

  async handle(current: Live | null, message: ScheduleMessage, reply: Reply<ScheduleReply>): Promise<Live | null> {
    this.handling = true;
    try {
      if (this.retired) throw new ActorStoppedError(this.scheduleId);
      const live = await this.ensureLive(current);
      this.dispatch(live, message, reply);
      return live;
    } catch (error) {
      this.dispose();
      reply.fail(error instanceof EngineUnavailableError ? error : new EngineUnavailableError(String(error), 1));
      return null;
    } finally {
      this.handling = false;
    }
  }

  private async ensureLive(current: Live | null): Promise<Live> {
    const fencing = this.deps.fencing;
    const stillOwned = !fencing || (current !== null && current.fence !== undefined && fencing.holds(current.fence));
    if (current && !this.writer.failed && current === this.live && stillOwned) return current;
    this.dispose();
    // Whatever the failed generation still had in flight must settle before we read the journal.
    await this.writer.whenIdle();
    // Taken before the journal is read: everything committed under older epochs is in what we read.
    const fence = fencing?.acquire(this.scheduleId);
    const started = process.hrtime.bigint();
    const recovered = await recoverSchedule(this.deps.db, this.scheduleId, async (id) => (this.catalogue ??= await this.deps.loadCatalogue(id)), this.deps.settings.holdTtlMs);
    const live: Live = {
      state: recovered.state,
      fence,
      view: new SeatMapView(this.scheduleId, recovered.state.catalogue, recovered.state),
      expiryTimers: new ExpiryTimers(this.now, (reservationId) => this.mailbox?.tell({ type: 'Expire', reservationId })),
      snapshotSeq: recovered.snapshotSeq,
      snapshotAt: recovered.snapshotAt,
      snapshotInFlight: false,
      recoveredAt: this.now(),
      paying: new Map(),
      snapshotWanted: false,
      deferredPays: [],
    };
    this.writer.reset(fence);
    // Holds that ran out while nobody owned the schedule expire now, committed before the new
    // generation is published, so no reader sees them HELD; the rest get their timers.
    const now = this.now();
    const overdue = [...live.state.holds.values()].filter((hold) => hold.expiresAt <= now);
    await Promise.all(overdue.map((hold) => this.expire(live, hold.reservationId)));
    if (this.retired) throw new ActorStoppedError(this.scheduleId);
    for (const hold of live.state.holds.values()) live.expiryTimers.arm(hold.reservationId, hold.expiresAt);
    this.live = live;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.deps.observer?.recovered?.(this.scheduleId, seconds, recovered.replayed);
    return live;
  }

  private dispatch(live: Live, message: ScheduleMessage, reply: Reply<ScheduleReply>): void {
    const now = this.now();
    const { settings } = this.deps;
    switch (message.type) {
      case 'Load':
        reply.ok({ kind: 'loaded' });
        return;
      case 'Expire': {
        // A hold being paid for is not expired under the payment: its outcome decides (see pay()).
        if (live.paying.has(message.reservationId)) return;
        const hold = live.state.holds.get(message.reservationId);
        // Node timers may fire a millisecond before Date.now() reaches the deadline: re-arm.
        if (hold && hold.expiresAt > now) return live.expiryTimers.arm(hold.reservationId, hold.expiresAt);
        // A failed commit is handled by the writer's failure path (the actor recovers).
        this.expire(live, message.reservationId).catch(() => undefined);
        return;
      }
      case 'Hold': {
        if (!reply.decide()) return; // answered (503) while it waited: never decided
        const rules = { now, holdTtlMs: settings.holdTtlMs, maxSeatsPerUser: settings.maxSeatsPerUser };
        // Best seats are chosen right here, from this state: no other command runs in between.
        const decision = decide(
          live.state,
          'best' in message.command ? { ...message.command, type: 'HoldBest', ...rules } : { ...message.command, type: 'Hold', ...rules },
        );
        if (!decision.ok) return reply.ok({ kind: 'rejected', rejection: decision.rejection });
        const held = decision.events[0] as Extract<ScheduleEvent, { type: 'SeatsHeld' }>;
        // The client's key rides on the event, so the same statement writes it on the reservation row.
        if (message.idempotency) Object.assign(held, { idempotencyKey: message.idempotency.key, requestHash: message.idempotency.requestHash });
        const hold = holdOf(held);
        this.commit(live, decision.events).then(
          () => reply.ok({ kind: 'held', hold }),
          (error: Error) => reply.fail(error),
        );
        return;
      }
      case 'Release': {
        if (!reply.decide()) return;
        if (live.paying.has(message.command.reservationId)) {
          return reply.ok({ kind: 'rejected', rejection: { code: 'RESERVATION_NOT_HELD' } });
        }
        const hold = live.state.holds.get(message.command.reservationId);
        const decision = decide(live.state, { ...message.command, type: 'Release', now });
        if (!decision.ok || !hold) {
          return reply.ok({ kind: 'rejected', rejection: decision.ok ? { code: 'RESERVATION_NOT_HELD' } : decision.rejection });
        }
        if (message.idempotencyKey !== undefined) Object.assign(decision.events[0]!, { idempotencyKey: message.idempotencyKey });
        this.commit(live, decision.events).then(
          () => reply.ok({ kind: 'released', hold }),
          (error: Error) => reply.fail(error),
        );
        return;
      }
      case 'Extend': {
        if (!reply.decide()) return;
        const { reservationId } = message.command;
        // A hold being paid for is decided by its payment, as for a release.
        if (live.paying.has(reservationId)) return reply.ok({ kind: 'rejected', rejection: { code: 'RESERVATION_NOT_HELD' } });
        const decision = decide(live.state, { ...message.command, type: 'Extend', now, holdTtlMs: settings.holdTtlMs, holdMaxMs: settings.holdMaxMs });
        if (!decision.ok) return reply.ok({ kind: 'rejected', rejection: decision.rejection });
        const extended = decision.events[0] as Extract<ScheduleEvent, { type: 'HoldExtended' }>;
        const hold: Hold = { ...live.state.holds.get(reservationId)!, expiresAt: extended.expiresAt };
        this.commit(live, decision.events).then(
          () => reply.ok({ kind: 'extended', hold }),
          (error: Error) => reply.fail(error),
        );
        return;
      }
      case 'Pay':
        this.pay(live, message, reply);
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * A payment touches balances and the outbox, so it is transactional work in the schedule's
   * writer (sharing one transaction with the payments queued next to it), queued behind the
   * events already in flight. It is pipelined like any
   * command: it takes its sequence number now, and the actor goes on deciding while the money
   * side runs. Until it answers, the hold can be neither released nor expired, and another Pay
   * for it waits. Either outcome fills the sequence number (SeatsSold or PaymentDeclined), so
   * the journal stays dense for recovery and fencing.
   */
  private pay(live: Live, message: Extract<ScheduleMessage, { type: 'Pay' }>, reply: Reply<ScheduleReply>): void {
    const { reservationId } = message.command;
    const waiting = live.paying.get(reservationId);
    if (waiting) {
      waiting.push({ message, reply });
      return;
    }
    if (live.snapshotWanted && live.paying.size > 0) {
      live.deferredPays.push({ message, reply });
      return;
    }
    if (!reply.decide()) return; // its deadline passed while it waited: never decided
    const now = this.now();
    const decision = decide(live.state, { ...message.command, type: 'Confirm', now });
    if (!decision.ok) return reply.ok({ kind: 'rejected', rejection: decision.rejection });
    const sold = decision.events[0] as Extract<ScheduleEvent, { type: 'SeatsSold' }>;
    const hold = live.state.holds.get(reservationId)!;
    const seq = reserveSeq(live.state);
    live.paying.set(reservationId, []);
    const declined: ScheduleEvent = { type: 'PaymentDeclined', reservationId, paymentId: sold.paymentId, at: now };
    this.writer
      .transaction(async (tx) => {
        await tx.query('SAVEPOINT money');
        const outcome = await recordPayment(tx, {
          ...message.payment,
          scheduleId: this.scheduleId,
          seatNos: hold.seatNos,
          amount: hold.amount,
          confirmedAt: new Date(now),
        });
        if (!outcome.ok) await tx.query('ROLLBACK TO SAVEPOINT money');
        await appendEventInTx(tx, this.scheduleId, { seq, event: outcome.ok ? sold : declined });
        return outcome;
      })
      .then(
        (outcome) => {
          // Committed: the asker hears the truth even if the actor reloaded meanwhile (the new
          // generation read this payment from the journal); only the stale memory is left alone.
          if (this.live !== live) return reply.ok({ kind: 'paid', outcome });
          if (outcome.ok) {
            applyEffect(live.state, sold);
            live.expiryTimers.clear(reservationId);
            live.view.applyCommitted(sold);
          }
          reply.ok({ kind: 'paid', outcome });
          this.afterPayment(live, reservationId);
        },
        (error: Error) => reply.fail(error), // the writer failed: the actor recovers
      );
  }

  /** Pays that waited for this one are decided now; a hold that ran out meanwhile expires. */
  private afterPayment(live: Live, reservationId: string): void {
    const waiting = live.paying.get(reservationId) ?? [];
    live.paying.delete(reservationId);
    for (const { message, reply } of waiting) this.pay(live, message, reply);
    const hold = live.state.holds.get(reservationId);
    if (hold && !live.paying.has(reservationId) && hold.expiresAt <= this.now()) {
      this.expire(live, reservationId).catch(() => undefined);
    }
    this.maybeSnapshot(live);
    if (live.paying.size === 0) {
      // The snapshot's state is copied (or another is still being written): waiting payments go ahead.
      for (const deferred of live.deferredPays.splice(0)) this.pay(live, deferred.message, deferred.reply);
    }
  }

  /** Resolves when the expiry is committed. A timer's expiry is not awaited by anyone. */
  private expire(live: Live, reservationId: string): Promise<void> {
    const decision = decide(live.state, { type: 'Expire', reservationId, now: this.now() });
    if (!decision.ok) return Promise.resolve();
    return this.commit(live, decision.events).then(() => this.deps.observer?.holdExpired?.());
  }

  /** Applies the events now, journals them, and moves the committed view when they commit. */
  private async commit(live: Live, events: ScheduleEvent[]): Promise<void> {
    const entries: JournalEntry[] = [];
    for (const event of events) {
      this.applyLocally(live, event);
      entries.push({ seq: live.state.seq, event });
    }
    await this.writer.append(entries);
    for (const event of events) live.view.applyCommitted(event);
    this.maybeSnapshot(live);
  }

  private applyLocally(live: Live, event: ScheduleEvent): void {
    applyEvent(live.state, event);
    if (event.type === 'SeatsHeld' || event.type === 'HoldExtended') {
      // An extension replaces the hold's timer: it fires at the new expiry, not the old.
      live.expiryTimers.arm(event.reservationId, event.expiresAt);
    } else {
      live.expiryTimers.clear(event.reservationId);
    }
  }

  /**
   * Every N events or T seconds. The state is copied now (it may include events still in flight)
   * and written only once the writer has committed everything up to it, on the side: the journal
   * never waits for a snapshot, and a snapshot never holds an event that failed to commit.
   */
  private maybeSnapshot(live: Live): void {
    const { snapshotEveryEvents, snapshotEveryMs } = this.deps.settings;
    const pending = live.state.seq - live.snapshotSeq;
    const lastAt = live.snapshotAt?.getTime() ?? live.recoveredAt;
    const due = pending >= snapshotEveryEvents || (pending > 0 && this.now() - lastAt >= snapshotEveryMs);
    if (!due || live.snapshotInFlight) return;
    // A payment in flight has taken its seq but not yet its effect: a snapshot now would lie.
    // Ask for one as soon as the payments in flight are done (new ones wait for it).
    if (live.paying.size > 0) {
      live.snapshotWanted = true;
      return;
    }
    const snapshot = toSnapshot(live.state);
    live.snapshotWanted = false;
    live.snapshotInFlight = true;
    this.writer
      .barrier()
      .then(() => saveSnapshot(this.deps.db, this.scheduleId, snapshot))
      .then(
        () => {
          live.snapshotSeq = snapshot.seq;
          live.snapshotAt = new Date(this.now());
        },
        () => undefined, // a failed commit makes the actor reload; a failed write is retried later
      )
      .finally(() => (live.snapshotInFlight = false));
  }
}

function holdOf(event: Extract<ScheduleEvent, { type: 'SeatsHeld' }>): Hold {
  const { reservationId, userId, seatNos, amount, expiresAt, at } = event;
  return { reservationId, userId, seatNos, amount, expiresAt, heldAt: at };
}
