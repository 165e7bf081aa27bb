/**
 * For the lock and sql baselines (design.md: "pool sizes tuned, indexes in place").
 *
 * - The per-user limit counts a user's live holds on one schedule at every hold: a partial index
 *   on exactly those rows keeps that a probe of a few entries, however many reservations exist.
 * - The baselines update seat rows (status, reservation_id) on every hold, release, sale and
 *   expiry. No index covers those columns, so the update can be HOT (no index writes) if the
 *   row's page has room for the new version: leave 15% of each seats page free. Only pages
 *   written from now on are affected, i.e. the seats of schedules created later.
 */
export const baselineIndexes = `
CREATE INDEX reservations_held_by_schedule_user ON reservations (schedule_id, user_id) WHERE status = 'HELD';
ALTER TABLE seats SET (fillfactor = 85);
`;
