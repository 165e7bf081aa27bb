/**
 * Redis keys of the lock engine. Every key of a schedule carries the hash tag `{scheduleId}`, so
 * a script or transaction touching several of them (all seat locks of a hold, the seat map and
 * its version) stays on one Redis Cluster slot.
 */
export interface ScheduleLockKeys {
  seat(seatNo: number): string;
  reservation(reservationId: string): string;
  /** The cached seat map JSON. */
  seatMap: string;
  /** Bumped on every invalidation; guards fills against racing invalidations. */
  seatMapVersion: string;
}

export function scheduleLockKeys(keyPrefix: string, scheduleId: string): ScheduleLockKeys {
  const base = `${keyPrefix}lock:{${scheduleId}}:`;
  return {
    seat: (seatNo) => `${base}seat:${seatNo}`,
    reservation: (reservationId) => `${base}reservation:${reservationId}`,
    seatMap: `${base}seat-map`,
    seatMapVersion: `${base}seat-map:version`,
  };
}
