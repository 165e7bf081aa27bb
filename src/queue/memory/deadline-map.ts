/**
 * A Map kept in deadline order, so that whatever is due is found at the front in O(due).
 *
 * It relies on each map setting "now + one fixed TTL" with a clock that moves forward: setting a
 * key again moves it to the end, which is then also its place by deadline. Should the clock step
 * back, an entry may sit behind a later one and leave late (never early): `takeDue` stops at the
 * first entry not yet due, and readers that must not see a stale entry check `isDue` themselves.
 */
export class DeadlineMap<V> {
  private readonly entries = new Map<string, { deadline: number; value: V }>();

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  deadlineOf(key: string): number | undefined {
    return this.entries.get(key)?.deadline;
  }

  isDue(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.deadline <= now;
  }

  set(key: string, value: V, deadline: number): void {
    this.entries.delete(key);
    this.entries.set(key, { deadline, value });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Entries whose deadline is still ahead of `now`; reads only (O(due) from the front). */
  countLive(now: number): number {
    let due = 0;
    for (const { deadline } of this.entries.values()) {
      if (deadline > now) break;
      due += 1;
    }
    return this.entries.size - due;
  }

  /** Removes and returns, oldest first, the entries whose deadline is at or before `now`. */
  takeDue(now: number): [string, V][] {
    const due: [string, V][] = [];
    for (const [key, { deadline, value }] of this.entries) {
      if (deadline > now) break;
      due.push([key, value]);
    }
    for (const [key] of due) this.entries.delete(key);
    return due;
  }

  *[Symbol.iterator](): IterableIterator<[string, V, number]> {
    for (const [key, { deadline, value }] of this.entries) yield [key, value, deadline];
  }
}
