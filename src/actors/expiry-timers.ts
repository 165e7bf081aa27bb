/**
 * One timer per live hold of a schedule actor, firing at its expiresAt. The timers only send the
 * actor an Expire message; the actor decides (a timer may fire a millisecond early, or for a hold
 * that is being paid for). Timers are unref'd: a pending expiry never keeps the process alive.
 */
export class ExpiryTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly now: () => number,
    private readonly fire: (reservationId: string) => void,
  ) {}

  arm(reservationId: string, expiresAt: number): void {
    this.clear(reservationId);
    const timer = setTimeout(() => this.fire(reservationId), Math.max(0, expiresAt - this.now()));
    timer.unref();
    this.timers.set(reservationId, timer);
  }

  clear(reservationId: string): void {
    clearTimeout(this.timers.get(reservationId));
    this.timers.delete(reservationId);
  }

  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
