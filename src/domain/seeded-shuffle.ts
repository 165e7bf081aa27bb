/**
 * The pre-queue draw (api.md, "On-sale time and the pre-queue"): a uniformly random order that
 * anyone can recompute from the recorded seed and the arrivals. Pure: the same seed and the same
 * items always give the same order, on every instance and after any restart.
 *
 * PRNG: xoshiro128** (Blackman & Vigna), 128 bits of state taken from SHA-256 of the seed text, so
 * any seed string works and the state is never all zero in practice (a zero state is patched).
 * Shuffle: Fisher–Yates, each index drawn without modulo bias (rejection sampling), so every
 * permutation of a small list is equally likely (test/unit/seeded-shuffle.unit.spec.ts measures it).
 */
import { createHash } from 'node:crypto';

export type RandomUint32 = () => number;

/** A deterministic stream of uniform 32-bit unsigned integers for `seed`. */
export function seededRandom(seed: string): RandomUint32 {
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  const s = [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)] as [number, number, number, number];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const TWO_32 = 0x1_0000_0000;

/** A uniform integer in [0, bound) for 1 ≤ bound ≤ 2^32, without modulo bias. */
export function uniformBelow(next: RandomUint32, bound: number): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > TWO_32) throw new RangeError(`uniformBelow: bound ${bound} out of range`);
  // The largest multiple of `bound` that fits in 2^32: values at or above it would favour the low residues.
  const limit = TWO_32 - (TWO_32 % bound);
  for (;;) {
    const value = next();
    if (value < limit) return value % bound;
  }
}

/** Fisher–Yates over a copy of `items`, driven by the seed's stream. */
export function seededShuffle<T>(items: readonly T[], seed: string): T[] {
  const next = seededRandom(seed);
  const order = [...items];
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = uniformBelow(next, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The arrivals in the order the shuffle starts from: sorted by code unit, a key every instance
 * sees alike (the tokens themselves), whatever order a store lists them in.
 */
export function drawOrder(arrivals: readonly string[], seed: string): string[] {
  return seededShuffle([...arrivals].sort(), seed);
}
