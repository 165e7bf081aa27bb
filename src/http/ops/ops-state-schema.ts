/** The response of GET /ops/state and of each /ops/events event: only these fields leave. */
import { Type } from '@sinclair/typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const OpsStateResponse = Type.Object({
  at: Type.String({ format: 'date-time' }),
  engine: Type.String(),
  actors: Type.Object({
    live: Type.Integer(),
    activeHolds: Type.Integer(),
    hottest: Type.Array(
      Type.Object({
        scheduleId: Type.String(),
        heat: Type.Number(),
        mailboxDepth: Type.Integer(),
        activeHolds: Type.Integer(),
        heldSeats: Type.Integer(),
        soldSeats: Type.Integer(),
        journalSeq: Type.Integer(),
        lastSnapshotAt: Nullable(Type.String()),
      }),
    ),
  }),
  queue: Nullable(
    Type.Array(Type.Object({ concertId: Type.String(), prequeue: Type.Integer(), waiting: Type.Integer(), active: Type.Integer(), admittedTotal: Type.Integer() })),
  ),
  outbox: Nullable(Type.Object({ relay: Type.String(), pending: Type.Integer(), oldestAgeSeconds: Type.Number() })),
  breakers: Type.Record(Type.String(), Type.String()),
  charges: Nullable(Type.Object({ pending: Type.Integer(), oldestAgeSeconds: Type.Number() })),
});
