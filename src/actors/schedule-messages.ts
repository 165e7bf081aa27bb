/** What a schedule actor is told, answers, and is built from. */
import type { Pool } from 'pg';
import type { HoldIdempotency } from '../engine/reservation-engine';
import type { Rejection, ScheduleCommand } from '../domain/schedule-commands';
import type { Hold, SeatCatalogue } from '../domain/schedule-state';
import type { PaymentCommand, PaymentOutcome } from '../persistence/payment-transaction';
import type { GroupCommitter } from './group-committer';
import type { Fence } from '../persistence/partition-owners-store';
import type { JournalWriterObserver, JournalWriterOptions } from './journal-writer';

type Command<T extends ScheduleCommand['type']> = Omit<Extract<ScheduleCommand, { type: T }>, 'now' | 'type'>;

export type PaymentDetails = Omit<PaymentCommand, 'confirmedAt' | 'seatNos' | 'amount' | 'scheduleId'>;

type Settled = 'holdTtlMs' | 'maxSeatsPerUser';

export type ScheduleMessage =
  | {
      type: 'Hold';
      /** Named seats, or the best available ones (chosen by the actor when it decides). */
      command: Omit<Command<'Hold'>, Settled> | Omit<Command<'HoldBest'>, Settled>;
      idempotency?: HoldIdempotency;
    }
  | { type: 'Release'; command: Command<'Release'>; idempotencyKey?: string }
  | { type: 'Extend'; command: Omit<Command<'Extend'>, 'holdTtlMs' | 'holdMaxMs'> }
  | { type: 'Pay'; command: Command<'Confirm'>; payment: PaymentDetails }
  | { type: 'Expire'; reservationId: string }
  | { type: 'Load' };

export type ScheduleReply =
  | { kind: 'held'; hold: Hold }
  | { kind: 'released'; hold: Hold }
  | { kind: 'extended'; hold: Hold }
  | { kind: 'paid'; outcome: PaymentOutcome }
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'loaded' };

export interface ScheduleActorSettings {
  holdTtlMs: number;
  /** An extension never moves a hold's expiry past its creation + this. */
  holdMaxMs: number;
  maxSeatsPerUser: number;
  outboxTopic: string;
  snapshotEveryEvents: number;
  snapshotEveryMs: number;
  writer: JournalWriterOptions;
}

export interface ScheduleActorObserver extends JournalWriterObserver {
  recovered?(scheduleId: string, seconds: number, events: number): void;
  /** A message was handled; `busySeconds` is how long it kept the actor from the next one. */
  processed?(command: ScheduleMessage['type'], busySeconds: number): void;
  /** A hold's expiry was committed (its seats are available again). */
  holdExpired?(): void;
}

/**
 * Ownership in a cluster (src/cluster): the epoch under which an actor may recover and commit.
 * Absent on a single instance, where the journal's (schedule_id, seq) key is the only fence.
 */
export interface FenceSource {
  /** The fence of the schedule's partition while this instance serves it; else throws EngineUnavailableError. */
  acquire(scheduleId: string): Fence;
  /** False once the partition was lost or claimed again under a newer epoch: the state may be stale. */
  holds(fence: Fence): boolean;
}

export interface ScheduleActorDeps {
  db: Pool;
  fencing?: FenceSource;
  committer: GroupCommitter;
  loadCatalogue(scheduleId: string): Promise<SeatCatalogue | undefined>;
  settings: ScheduleActorSettings;
  observer?: ScheduleActorObserver;
  now?: () => number;
}
