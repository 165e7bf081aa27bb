/**
 * How hot an actor is: messages per second, exponentially decayed with a time constant of
 * `tauMs` (10 s by default), so a burst shows at once and fades within a minute. O(1) memory and
 * one Math.exp per message, cheap enough to keep for every live actor.
 */
export class HeatMeter {
  private value = 0;
  private at = 0;

  constructor(private readonly tauMs = 10_000) {}

  record(now: number): void {
    this.value = this.decayed(now) + 1;
    this.at = now;
  }

  /** At a steady rate of r messages per second this converges to r. */
  perSecond(now: number): number {
    return this.decayed(now) / (this.tauMs / 1000);
  }

  private decayed(now: number): number {
    return this.value * Math.exp(-Math.max(0, now - this.at) / this.tauMs);
  }
}
