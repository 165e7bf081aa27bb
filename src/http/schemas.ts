/** Request and response schemas (JSON Schema via TypeBox). Unknown request fields are rejected. */
import { Type, type Static } from '@sinclair/typebox';
import { FORWARDED_OPS } from '../cluster/engine-wire';

const strict = { additionalProperties: false } as const;

export const Uuid = Type.String({ format: 'uuid' });
export const IsoTime = Type.String({ format: 'date-time' });
export const Money = Type.Integer({ minimum: 1 });

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.Optional(Type.String()),
});

// Admin
/** Seats per row (rows are consecutive seat numbers; README, "Best-available seats"). */
const RowLength = Type.Integer({
  minimum: 1,
  maximum: 100000,
  description:
    'Seats per row (default 10 on a schedule). Row 1 is seats 1..rowLength of the schedule; a section with its own rowLength ' +
    'starts its rows at fromSeat, and the schedule grid resumes after it.',
});
export const Section = Type.Object(
  {
    grade: Type.String({ minLength: 1, maxLength: 50 }),
    fromSeat: Type.Integer({ minimum: 1, maximum: 100000 }),
    toSeat: Type.Integer({ minimum: 1, maximum: 100000 }),
    price: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    rowLength: Type.Optional(RowLength),
  },
  strict,
);
export const ScheduleInput = Type.Object(
  {
    startsAt: IsoTime,
    seatCount: Type.Integer({ minimum: 1, maximum: 100000 }),
    price: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    rowLength: Type.Optional(RowLength),
    sections: Type.Optional(Type.Array(Section, { maxItems: 100 })),
  },
  strict,
);
export const CreateConcertBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    venue: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    onSaleAt: Type.Optional({
      ...IsoTime,
      description: 'When the sale opens. Tokens issued before it wait in the pre-queue, which is drawn into a random order at this time.',
    }),
    schedules: Type.Array(ScheduleInput, { minItems: 1, maxItems: 100 }),
  },
  strict,
);
export type CreateConcertBody = Static<typeof CreateConcertBody>;
const OnSaleAt = Type.Union([Type.String(), Type.Null()], { description: 'When the sale opens; null: open from creation' });
export const CreatedConcert = Type.Object({
  concertId: Uuid,
  title: Type.String(),
  onSaleAt: OnSaleAt,
  schedules: Type.Array(Type.Object({ scheduleId: Uuid, startsAt: Type.String(), seatCount: Type.Integer() })),
});
export const QueueDrawResponse = Type.Object({
  concertId: Uuid,
  onSaleAt: Type.String(),
  drawnAt: Type.String(),
  seed: Type.String({ description: 'Recompute the order: seededShuffle(tokens sorted by code unit, seed) (src/domain/seeded-shuffle.ts)' }),
  count: Type.Integer({ description: 'Tokens in the pre-queue when the draw was recorded' }),
});
export const AdminKeyHeaders = Type.Object({ 'x-admin-key': Type.Optional(Type.String()) });
export const ACTOR_SORT_KEYS = ['heat', 'mailboxDepth', 'activeHolds', 'heldSeats', 'soldSeats', 'journalSeq'] as const;
export const ActorsQuery = Type.Object(
  {
    sort: Type.Optional(
      Type.Union(
        ACTOR_SORT_KEYS.map((key) => Type.Literal(key)),
        { description: 'Highest first; default heat (messages per second lately)' },
      ),
    ),
    // Query values are text (the validator coerces nothing): digits, 1..1000 checked by the route.
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: '1..1000, default 100' })),
  },
  strict,
);
export type ActorsQuery = Static<typeof ActorsQuery>;
export const ActorsResponse = Type.Object({
  /** Live actors in all, before the limit. */
  total: Type.Integer(),
  actors: Type.Array(
    Type.Object({
      scheduleId: Uuid,
      heat: Type.Number({ description: 'Messages handled per second lately (decayed over ~10 s)' }),
      mailboxDepth: Type.Integer(),
      activeHolds: Type.Integer({ description: 'Live holds (reservations)' }),
      heldSeats: Type.Integer(),
      soldSeats: Type.Integer(),
      journalSeq: Type.Integer(),
      snapshotSeq: Type.Integer(),
      lastSnapshotAt: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

// Queue
export const IssueTokenBody = Type.Object({ userId: Uuid, concertId: Uuid }, strict);
export type IssueTokenBody = Static<typeof IssueTokenBody>;
export const TokenResponse = Type.Object({
  token: Type.String(),
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE')]),
  position: Type.Union([Type.Integer(), Type.Null()], {
    description: '0 when ACTIVE, the 1-based place in line when WAITING, null in the pre-queue (before the on-sale time)',
  }),
  estimatedWaitSeconds: Type.Integer(),
  activeUntil: Type.Union([Type.String(), Type.Null()]),
  opensAt: Type.Optional(Type.String({ description: "The concert's on-sale time; only while the token is in the pre-queue" })),
});
export const QueueTokenHeaders = Type.Object({ 'queue-token': Type.Optional(Type.String({ maxLength: 200 })) });
/** A Queue-Token and an optional Idempotency-Key (holds and cancels). */
export const QueueTokenOptionalKeyHeaders = Type.Object({
  'queue-token': Type.Optional(Type.String({ maxLength: 200 })),
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});

// Concerts
export const ConcertParams = Type.Object({ concertId: Uuid }, strict);
export const ScheduleParams = Type.Object({ scheduleId: Uuid }, strict);
export const ConcertsResponse = Type.Object({
  concerts: Type.Array(
    Type.Object({ concertId: Uuid, title: Type.String(), venue: Type.Union([Type.String(), Type.Null()]), onSaleAt: OnSaleAt }),
  ),
});
export const SchedulesResponse = Type.Object({
  schedules: Type.Array(
    Type.Object({ scheduleId: Uuid, startsAt: Type.String(), seatCount: Type.Integer(), availableSeats: Type.Integer() }),
  ),
});

export const SeatMapResponse = Type.Object({
  scheduleId: Uuid,
  seats: Type.Array(
    Type.Object({
      seatNo: Type.Integer(),
      row: Type.Integer({ minimum: 1 }),
      grade: Type.String(),
      price: Type.Integer(),
      status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]),
    }),
  ),
});

// Reservations
export const BestSeats = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: 100, description: '1..MAX_SEATS_PER_HOLD (more: 422 LIMIT_EXCEEDED)' }),
    grade: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'only seats of this grade' })),
    adjacent: Type.Optional(
      Type.Boolean({ description: 'consecutive seat numbers in one row (default true); false: the lowest-numbered free seats' }),
    ),
  },
  { ...strict, description: 'Let the server choose: the front-most row first, then the lowest seat numbers; no single seat stranded when the row offers another block' },
);
/** Exactly one of `seatNos` and `best` (both or neither: 400 VALIDATION_FAILED). */
export const HoldBody = Type.Object(
  {
    scheduleId: Uuid,
    seatNos: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 100000 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
    ),
    best: Type.Optional(BestSeats),
  },
  { ...strict, oneOf: [{ required: ['seatNos'] }, { required: ['best'] }] },
);
export type HoldBody = Static<typeof HoldBody>;
export const ReservationParams = Type.Object({ reservationId: Uuid }, strict);
export const UserParams = Type.Object({ userId: Uuid }, strict);
export const Reservation = Type.Object({
  reservationId: Uuid,
  userId: Uuid,
  scheduleId: Uuid,
  seatNos: Type.Array(Type.Integer()),
  status: Type.Union(['HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED'].map((s) => Type.Literal(s))),
  amount: Type.Integer(),
  expiresAt: Type.String(),
});
export const ReservationsResponse = Type.Object({ reservations: Type.Array(Reservation) });
/** Path parameters are text (the validator does not coerce): a seat number is 1..100000 written plainly. */
export const SeatHistoryParams = Type.Object(
  { scheduleId: Uuid, seatNo: Type.String({ pattern: '^(100000|[1-9][0-9]{0,4})$', description: 'seat number, 1..100000' }) },
  strict,
);
export const SeatHistoryResponse = Type.Object({
  scheduleId: Uuid,
  seatNo: Type.Integer(),
  source: Type.Union([Type.Literal('journal'), Type.Literal('reservations')], {
    description: "journal (actor engine: every decision); reservations (baselines: derived from reservation rows, no extensions)",
  }),
  events: Type.Array(
    Type.Object({
      seq: Type.Integer({ description: "the journal's sequence number (on the baselines: the place in this list)" }),
      type: Type.Union(['HELD', 'EXTENDED', 'CANCELLED', 'EXPIRED', 'SOLD'].map((t) => Type.Literal(t))),
      reservationId: Uuid,
      userId: Uuid,
      at: Type.String(),
    }),
  ),
});

// Balance and payments
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({ minLength: 1, maxLength: 64 }),
  'queue-token': Type.Optional(Type.String({ maxLength: 200 })),
});
export const ChargeBody = Type.Object({ amount: Type.Integer({ minimum: 1, maximum: 10_000_000 }) }, strict);
export type ChargeBody = Static<typeof ChargeBody>;
export const BalanceResponse = Type.Object({ userId: Uuid, balance: Type.Integer() });
export const ChargeResponse = Type.Object({
  userId: Uuid,
  balance: Type.Integer(),
  chargeId: Uuid,
  status: Type.Union([Type.Literal('APPROVED'), Type.Literal('PENDING')]),
});
export const ChargeParams = Type.Object({ userId: Uuid, chargeId: Uuid }, strict);
export const ChargeStatusResponse = Type.Object({
  chargeId: Uuid,
  amount: Type.Integer(),
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('APPROVED'), Type.Literal('DECLINED')]),
  createdAt: Type.String(),
  settledAt: Type.Union([Type.String(), Type.Null()]),
});
export const PayBody = Type.Object({ reservationId: Uuid }, strict);
export type PayBody = Static<typeof PayBody>;
export const PaymentResponse = Type.Object({
  paymentId: Uuid,
  reservationId: Uuid,
  amount: Type.Integer(),
  status: Type.Literal('PAID'),
  balance: Type.Integer(),
});

export const ClusterQuery = Type.Object(
  { scheduleId: Type.Optional(Type.String({ format: 'uuid', description: 'Also say which partition and member own this schedule' })) },
  strict,
);
export type ClusterQuery = Static<typeof ClusterQuery>;

/** Internal: the engine calls one member forwards to another (not in the public OpenAPI document). */
export const ForwardedCallParams = Type.Object({ op: Type.Union(FORWARDED_OPS.map((op) => Type.Literal(op))) }, strict);

const PartitionOwnerSchema = Type.Object({
  partition: Type.Integer(),
  ownerUrl: Type.String(),
  epoch: Type.Integer({ description: 'Raised each time another member takes the partition; every commit checks it' }),
  generation: Type.Union([Type.Integer(), Type.Null()], { description: 'The ownership group generation the claim was made in' }),
  claimedAt: Type.String({ format: 'date-time' }),
});

/** GET /v1/admin/cluster: `mode: single` (no CLUSTER_ADVERTISE_URL) carries only `actors`. */
export const ClusterResponse = Type.Object({
  mode: Type.Union([Type.Literal('single'), Type.Literal('cluster')]),
  actors: Type.Optional(Type.Integer({ description: 'single: live actors' })),
  self: Type.Optional(
    Type.Object({
      url: Type.String(),
      incarnation: Uuid,
      state: Type.Union(['joining', 'rebalancing', 'serving', 'stopped'].map((s) => Type.Literal(s))),
      generation: Type.Union([Type.Integer(), Type.Null()]),
      leaseLive: Type.Boolean({ description: 'A heartbeat succeeded within the session timeout: this member may serve' }),
      ownedPartitions: Type.Array(Type.Integer()),
      failure: Type.Union([Type.String(), Type.Null()], { description: 'Why this member left the ownership group for good (it is then not ready)' }),
    }),
  ),
  partitions: Type.Optional(Type.Integer({ description: 'CLUSTER_PARTITIONS' })),
  rebalances: Type.Optional(Type.Integer({ description: 'Assignments this member received' })),
  members: Type.Optional(
    Type.Array(Type.Object({ url: Type.String(), partitions: Type.Array(Type.Integer()) }), {
      description: 'Members as the partition map knows them, with the partitions each claimed (a member gone a moment ago stays until its partitions are claimed again)',
    }),
  ),
  owners: Type.Optional(Type.Array(PartitionOwnerSchema, { description: 'partition_owners as last read (every second)' })),
  ownersReadAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  ownedActors: Type.Optional(Type.Array(Type.Object({ scheduleId: Uuid, partition: Type.Integer() }))),
  schedule: Type.Optional(
    Type.Object({
      scheduleId: Uuid,
      partition: Type.Integer(),
      ownerUrl: Type.Union([Type.String(), Type.Null()]),
      epoch: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});
