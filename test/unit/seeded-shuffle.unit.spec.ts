/**
 * The pre-queue draw's shuffle: deterministic per seed, a permutation, and uniform. Uniformity is
 * measured with chi-square tests over a fixed list of seeds, so the result is the same on every
 * run (it never flakes); the thresholds are the 0.1 % critical values, and a deliberately biased
 * shuffle run through the same tests shows that they can tell.
 */
import { drawOrder, seededRandom, seededShuffle, uniformBelow } from '../../src/domain/seeded-shuffle';

const SEEDS = Array.from({ length: 24_000 }, (_, index) => `seed-${index}`);
const ITEMS = ['a', 'b', 'c', 'd', 'e'];

/** Critical values of chi-square at α = 0.001 (scipy.stats.chi2.ppf(0.999, df)). */
const CRITICAL_0_001: Record<number, number> = { 4: 18.467, 16: 39.252, 119: 172.418 };

function chiSquare(observed: number[], expected: number): number {
  return observed.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

/** The textbook mistake: j drawn from the whole list at every step (n^n paths onto n! orders). */
function naiveShuffle<T>(items: readonly T[], seed: string): T[] {
  const next = seededRandom(seed);
  const order = [...items];
  for (let i = 0; i < order.length; i += 1) {
    const j = uniformBelow(next, order.length);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

type Shuffle = (items: readonly string[], seed: string) => string[];

function firstPlaceStatistic(shuffle: Shuffle): number {
  const counts = ITEMS.map(() => 0);
  for (const seed of SEEDS) counts[ITEMS.indexOf(shuffle(ITEMS, seed)[0]!)]! += 1;
  return chiSquare(counts, SEEDS.length / ITEMS.length);
}

function positionStatistic(shuffle: Shuffle): number {
  const counts = ITEMS.flatMap(() => ITEMS.map(() => 0));
  for (const seed of SEEDS) {
    shuffle(ITEMS, seed).forEach((item, position) => (counts[ITEMS.indexOf(item) * ITEMS.length + position]! += 1));
  }
  return chiSquare(counts, SEEDS.length / ITEMS.length);
}

function permutationStatistic(shuffle: Shuffle): { statistic: number; seen: number } {
  const counts = new Map<string, number>();
  for (const seed of SEEDS) {
    const key = shuffle(ITEMS, seed).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const observed = [...counts.values()];
  while (observed.length < 120) observed.push(0);
  return { statistic: chiSquare(observed, SEEDS.length / 120), seen: counts.size };
}

describe('seeded shuffle', () => {
  test('when the same seed is used twice, then the order is the same', () => {
    const items = Array.from({ length: 1000 }, (_, index) => `token-${index}`);
    expect(seededShuffle(items, 'abc')).toEqual(seededShuffle(items, 'abc'));
    expect(seededShuffle(items, 'abc')).not.toEqual(seededShuffle(items, 'abd'));
  });

  test('when a list is shuffled, then the result is a permutation of it and the input is untouched', () => {
    const items = Array.from({ length: 500 }, (_, index) => index);
    const copy = [...items];
    const shuffled = seededShuffle(items, 'permutation');
    expect(items).toEqual(copy);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
  });

  test('when the arrivals come listed in another order, then the draw is the same (it starts from the sorted arrivals)', () => {
    const arrivals = ['q', 'b', 'x', 'a', 'm'];
    expect(drawOrder(arrivals, 's')).toEqual(drawOrder([...arrivals].reverse(), 's'));
    expect(drawOrder(arrivals, 's')).toEqual(seededShuffle(['a', 'b', 'm', 'q', 'x'], 's'));
  });

  test('when the list is empty or has one item, then the shuffle returns it as it is', () => {
    expect(seededShuffle([], 'x')).toEqual([]);
    expect(seededShuffle(['only'], 'x')).toEqual(['only']);
  });

  test('when a seed is fixed, then its stream is pinned (a change of the generator would reorder recorded draws)', () => {
    const next = seededRandom('ovation');
    const first = [next(), next(), next()];
    expect(first.every((value) => Number.isInteger(value) && value >= 0 && value < 2 ** 32)).toBe(true);
    expect(seededShuffle(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], 'ovation')).toEqual(PINNED_ORDER);
  });

  test('when bounds are drawn, then every value is in range and a bound out of range is refused', () => {
    const next = seededRandom('bounds');
    const values = Array.from({ length: 10_000 }, () => uniformBelow(next, 7));
    expect(values.every((value) => Number.isInteger(value) && value >= 0 && value < 7)).toBe(true);
    expect(() => uniformBelow(next, 0)).toThrow(RangeError);
    expect(() => uniformBelow(next, 2 ** 32 + 1)).toThrow(RangeError);
  });

  describe('uniformity over 24,000 fixed seeds, 5 arrivals (chi-square, α = 0.001)', () => {
    test('when we count which arrival lands first, then the counts fit a uniform distribution (4 degrees of freedom)', () => {
      expect(firstPlaceStatistic(seededShuffle)).toBeLessThan(CRITICAL_0_001[4]!);
    });

    test('when we count each arrival at each position, then the counts fit a uniform distribution (16 degrees of freedom)', () => {
      expect(positionStatistic(seededShuffle)).toBeLessThan(CRITICAL_0_001[16]!);
    });

    test('when we count whole orders, then all 120 occur and their counts fit a uniform distribution (119 degrees of freedom)', () => {
      const { statistic, seen } = permutationStatistic(seededShuffle);
      expect(seen).toBe(120);
      expect(statistic).toBeLessThan(CRITICAL_0_001[119]!);
    });

    test('when the same tests judge a known-biased shuffle, then they reject it (they have the power to tell)', () => {
      expect(positionStatistic(naiveShuffle)).toBeGreaterThan(CRITICAL_0_001[16]!);
      expect(permutationStatistic(naiveShuffle).statistic).toBeGreaterThan(CRITICAL_0_001[119]!);
    });
  });
});

const PINNED_ORDER = ['h', 'b', 'g', 'a', 'd', 'e', 'f', 'c'];
