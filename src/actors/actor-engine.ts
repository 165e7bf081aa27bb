/** The reservation engine of ovation: one actor per schedule decides every seat. */
import type { Pool } from 'pg';
import { DB_TIMEOUTS } from '../persistence/database';
import { availableSeatsFromReservations } from '../persistence/seat-availability';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import { EngineOutcomeUnknownError } from '../engine/outcome-unknown-error';
import { MailboxFullError, RequestTimeoutError } from './actor-errors';
import { GroupCommitter, type GroupCommitObserver } from './group-committer';
import { ScheduleRegistry, type ScheduleEntry } from './schedule-registry';
import type { FenceSource, ScheduleActorObserver, ScheduleActorSettings, ScheduleMessage, ScheduleReply } from './schedule-messages';
import { schedulesWithLiveHolds } from '../persistence/partition-owners-store';
import { seatHistoryFromJournal } from '../persistence/seat-history-store';
import type {
  ActorInfo,
  ExtendRequest,
  ExtendResult,
  SeatHistory,
  HoldRequest,
  HoldResult,
  PayRequest,
  PayResult,
  ReleaseRequest,
  ReleaseResult,
  ReservationEngine,
} from '../engine/reservation-engine';
import type { SeatCatalogue } from '../domain/schedule-state';

export interface ActorEngineOptions {
  db: Pool;
  loadCatalogue(scheduleId: string): Promise<SeatCatalogue | undefined>;
  settings: ScheduleActorSettings;
  /** Journal commits in flight at once, across all schedules. */
  commitsInFlight: number;
  mailboxCapacity: number;
  requestTimeoutMs: number;
  idleMs: number;
  observer?: ScheduleActorObserver & GroupCommitObserver & AskObserver;
  /** In a cluster: which partitions this instance owns, and under which epoch (src/cluster). */
  fencing?: FenceSource;
}

export interface AskObserver {
  /** A command asked of an actor was answered: its outcome (bounded label) and the wait, commit included. */
  answered?(command: ScheduleMessage['type'], outcome: string, seconds: number): void;
}

export class ActorEngine implements ReservationEngine {
  readonly name = 'actor' as const;
  private readonly registry: ScheduleRegistry;
  private started = false;

  constructor(private readonly options: ActorEngineOptions) {
    const committer = new GroupCommitter(
      options.db,
      { maxInFlight: options.commitsInFlight, maxEvents: options.settings.writer.maxBatch },
      options.observer,
    );
    this.registry = new ScheduleRegistry(
      {
        db: options.db,
        committer,
        loadCatalogue: options.loadCatalogue,
        settings: options.settings,
        observer: options.observer,
        ...(options.fencing ? { fencing: options.fencing } : {}),
      },
      {
        mailboxCapacity: options.mailboxCapacity,
        idleMs: options.idleMs,
        // Every ask is answered by then (decided ones within the decided timeout, see ask()).
        drainTimeoutMs: options.requestTimeoutMs + 2 * DB_TIMEOUTS.queryMs + 1_000,
      },
    );
  }

  async start(): Promise<void> {
    this.registry.start();
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.registry.stop();
  }

  isReady(): boolean {
    return this.started;
  }

  /** Stops the actors of the schedules that `matches` after they drained (their partition moved away). */
  releaseSchedules(matches: (scheduleId: string) => boolean): Promise<number> {
    return this.registry.release(matches);
  }

  /**
   * Brings up the actors of schedules with live holds (that `matches`, when given): their expiry
   * timers run from now on, so a hold expires on time after an ownership move even if nobody asks
   * about its schedule (a cluster member calls it for each partition it gains). A single instance
   * stays lazy: readers already see an overdue hold as expired, and its actor expires it on spawn.
   * Returns how many were woken.
   */
  async wakeHolders(matches: (scheduleId: string) => boolean = () => true): Promise<number> {
    const scheduleIds = (await schedulesWithLiveHolds(this.options.db)).filter((id) => matches(id) && this.mayServe(id));
    for (const scheduleId of scheduleIds) this.registry.get(scheduleId).mailbox.tell({ type: 'Load' });
    return scheduleIds.length;
  }

  async hold(request: HoldRequest): Promise<HoldResult> {
    const { reservationId, userId, scheduleId, idempotency } = request;
    const reply = await this.ask(scheduleId, {
      type: 'Hold',
      command: request.best ? { reservationId, userId, best: request.best } : { reservationId, userId, seatNos: request.seatNos },
      ...(idempotency ? { idempotency } : {}),
    });
    if (reply.kind === 'rejected') return { ok: false, rejection: reply.rejection };
    if (reply.kind !== 'held') throw unexpected(reply);
    const { hold } = reply;
    return {
      ok: true,
      reservation: {
        reservationId,
        userId,
        scheduleId,
        seatNos: hold.seatNos,
        status: 'HELD',
        amount: hold.amount,
        expiresAt: new Date(hold.expiresAt).toISOString(),
      },
    };
  }

  async release(request: ReleaseRequest): Promise<ReleaseResult> {
    const { reservation, userId, idempotencyKey } = request;
    const reply = await this.ask(reservation.scheduleId, {
      type: 'Release',
      command: { reservationId: reservation.reservationId, userId },
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    if (reply.kind === 'rejected') return { ok: false, rejection: reply.rejection };
    if (reply.kind !== 'released') throw unexpected(reply);
    return { ok: true, reservation: { ...reservation, status: 'CANCELLED' } };
  }

  async extend(request: ExtendRequest): Promise<ExtendResult> {
    const { reservation, userId } = request;
    const reply = await this.ask(reservation.scheduleId, {
      type: 'Extend',
      command: { reservationId: reservation.reservationId, userId },
    });
    if (reply.kind === 'rejected') return { ok: false, rejection: reply.rejection };
    if (reply.kind !== 'extended') throw unexpected(reply);
    return { ok: true, reservation: { ...reservation, status: 'HELD', expiresAt: new Date(reply.hold.expiresAt).toISOString() } };
  }

  /** Without fencing (one instance) always; in a cluster only while this instance holds the schedule's fence. */
  private mayServe(scheduleId: string): boolean {
    const { fencing } = this.options;
    if (!fencing) return true;
    try {
      fencing.acquire(scheduleId);
      return true;
    } catch {
      return false;
    }
  }

  seatHistory(scheduleId: string, seatNo: number): Promise<SeatHistory> {
    return seatHistoryFromJournal(this.options.db, scheduleId, seatNo);
  }

  async pay(request: PayRequest): Promise<PayResult> {
    const { reservation, userId, paymentId, idempotency } = request;
    const reply = await this.ask(reservation.scheduleId, {
      type: 'Pay',
      command: { reservationId: reservation.reservationId, userId, paymentId },
      payment: {
        paymentId,
        reservationId: reservation.reservationId,
        userId,
        outboxTopic: this.options.settings.outboxTopic,
        idempotency,
      },
    });
    if (reply.kind === 'rejected') return { ok: false, rejection: reply.rejection };
    if (reply.kind !== 'paid') throw unexpected(reply);
    const { outcome } = reply;
    return outcome.ok ? { ok: true, receipt: outcome.receipt } : { ok: false, rejection: { code: outcome.code } };
  }

  async seatMapJson(scheduleId: string): Promise<string> {
    return (await this.loadedView(scheduleId)).json();
  }

  /** From memory when the schedule's actor is live; otherwise from the database, without spawning one. */
  async availableSeats(scheduleId: string): Promise<number> {
    const view = this.registry.peek(scheduleId)?.actor.view;
    if (view) return view.availableSeats;
    return availableSeatsFromReservations(this.options.db, scheduleId);
  }

  actors(): ActorInfo[] {
    const now = Date.now();
    return this.registry.all().map(({ actor, mailbox, heat }: ScheduleEntry) => {
      const snapshot = actor.snapshotInfo;
      return {
        scheduleId: actor.scheduleId,
        heat: Math.round(heat.perSecond(now) * 100) / 100,
        mailboxDepth: mailbox.depth,
        activeHolds: actor.liveHolds,
        heldSeats: actor.view?.heldSeats ?? 0,
        soldSeats: actor.view?.soldSeats ?? 0,
        journalSeq: actor.seq,
        snapshotSeq: snapshot.seq,
        lastSnapshotAt: snapshot.at?.toISOString() ?? null,
      };
    });
  }

  /** Reads go straight to the committed view; only a schedule not yet in memory costs a message. */
  private async loadedView(scheduleId: string) {
    const { actor } = this.registry.get(scheduleId);
    if (!actor.view) await this.ask(scheduleId, { type: 'Load' });
    const view = actor.view;
    // A commit failed between the load and this read: the actor is recovering again.
    if (!view) throw new EngineUnavailableError(`schedule ${scheduleId} is recovering`, 1);
    return view;
  }

  private ask(scheduleId: string, message: ScheduleMessage): Promise<ScheduleReply> {
    // Once decided, a command's answer waits for its commit; the pool's timeouts bound that
    // (recovery reads plus the commit), this only makes sure nobody waits past them.
    const decidedTimeoutMs = this.options.requestTimeoutMs + 2 * DB_TIMEOUTS.queryMs;
    const answer = this.registry.get(scheduleId).mailbox.ask(message, this.options.requestTimeoutMs, decidedTimeoutMs);
    const answered = this.options.observer?.answered;
    if (!answered) return answer;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    return answer.then(
      (reply) => {
        answered(message.type, replyOutcome(reply), seconds());
        return reply;
      },
      (error: unknown) => {
        answered(message.type, errorOutcome(error), seconds());
        throw error;
      },
    );
  }
}

/** A bounded label: the reply's kind, or the rejection's code (a fixed set, schedule-commands.ts). */
function replyOutcome(reply: ScheduleReply): string {
  if (reply.kind === 'rejected') return reply.rejection.code;
  if (reply.kind === 'paid' && !reply.outcome.ok) return reply.outcome.code;
  return reply.kind;
}

/** Why an ask got no answer from the actor, as a fixed set of labels (actor-errors.ts). */
function errorOutcome(error: unknown): string {
  if (error instanceof MailboxFullError) return 'mailbox_full';
  if (error instanceof RequestTimeoutError) return 'timeout';
  if (error instanceof EngineOutcomeUnknownError) return 'outcome_unknown';
  if (error instanceof EngineUnavailableError) return 'unavailable';
  return 'error';
}

function unexpected(reply: ScheduleReply): Error {
  return new Error(`unexpected actor reply ${reply.kind}`);
}


