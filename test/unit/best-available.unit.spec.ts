/**
 * Properties of the best-available choice (src/domain/best-available.ts) over random layouts
 * (rows from seat-rows.ts, with and without sections of their own row length), random taken
 * seats and random requests; plus an oracle that enumerates every block and applies the stated
 * rules by brute force, which the fast implementation must match exactly.
 */
import fc from 'fast-check';
import { pickBestSeats, type BestSeatsRequest, type SeatLayout } from '../../src/domain/best-available';
import { seatRows } from '../../src/domain/seat-rows';

interface Scenario {
  layout: SeatLayout & { rows: number[]; grades: string[] };
  free: boolean[];
  request: BestSeatsRequest;
}

const GRADES = ['VIP', 'R', 'S'];

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    seatCount: fc.integer({ min: 1, max: 60 }),
    rowLength: fc.integer({ min: 1, max: 12 }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 4 }),
    sectionRowLengths: fc.array(fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }), { minLength: 5, maxLength: 5 }),
    sectionGrades: fc.array(fc.constantFrom(...GRADES), { minLength: 5, maxLength: 5 }),
    taken: fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
    request: fc.record({
      quantity: fc.integer({ min: 1, max: 5 }),
      grade: fc.option(fc.constantFrom(...GRADES), { nil: undefined }),
      adjacent: fc.boolean(),
    }),
  })
  .map(({ seatCount, rowLength, cuts, sectionRowLengths, sectionGrades, taken, request }) => {
    // Sections tile the schedule between the cut points; each may bring its own row length.
    const bounds = [...new Set([0, ...cuts.filter((c) => c < seatCount), seatCount])].sort((a, b) => a - b);
    const sections = bounds.slice(1).map((toSeat, i) => ({
      fromSeat: bounds[i]! + 1,
      toSeat,
      rowLength: sectionRowLengths[i],
      grade: sectionGrades[i]!,
    }));
    const grades = new Array<string>(seatCount);
    for (const s of sections) for (let n = s.fromSeat; n <= s.toSeat; n++) grades[n - 1] = s.grade;
    return {
      layout: { seatCount, rows: seatRows(seatCount, rowLength, sections), grades },
      free: taken.slice(0, seatCount).map((t) => !t),
      request,
    };
  });

const isFreeIn = (free: boolean[]) => (seatNo: number) => free[seatNo - 1] === true;
const pick = ({ layout, free, request }: Scenario) => pickBestSeats(layout, isFreeIn(free), request);
const fits = ({ layout, request }: Scenario, seatNo: number) => request.grade === undefined || layout.grades[seatNo - 1] === request.grade;

/** Every block the request could take, in seat order. */
function allBlocks(s: Scenario): number[][] {
  const blocks: number[][] = [];
  const { seatCount, rows } = s.layout;
  for (let start = 1; start + s.request.quantity - 1 <= seatCount; start++) {
    const block = Array.from({ length: s.request.quantity }, (_, i) => start + i);
    if (block.every((n) => s.free[n - 1] && fits(s, n) && rows[n - 1] === rows[start - 1])) blocks.push(block);
  }
  return blocks;
}

/** A free seat of the block's row left alone between the block and a taken seat or the row's edge. */
function strandsSingle(s: Scenario, block: number[]): boolean {
  const { rows, seatCount } = s.layout;
  const row = rows[block[0]! - 1];
  const freeAfter = (n: number) => n >= 1 && n <= seatCount && rows[n - 1] === row && s.free[n - 1] === true && !block.includes(n);
  const first = block[0]!;
  const last = block[block.length - 1]!;
  return (freeAfter(first - 1) && !freeAfter(first - 2)) || (freeAfter(last + 1) && !freeAfter(last + 2));
}

function oracle(s: Scenario): number[] | undefined {
  if (!s.request.adjacent) {
    const seats = s.free.map((f, i) => (f && fits(s, i + 1) ? i + 1 : 0)).filter((n) => n > 0);
    return seats.length >= s.request.quantity ? seats.slice(0, s.request.quantity) : undefined;
  }
  const blocks = allBlocks(s);
  if (blocks.length === 0) return undefined;
  const frontRow = Math.min(...blocks.map((b) => s.layout.rows[b[0]! - 1]!));
  const inRow = blocks.filter((b) => s.layout.rows[b[0]! - 1] === frontRow);
  return inRow.find((b) => !strandsSingle(s, b)) ?? inRow[0];
}

const RUNS = { numRuns: 2_000, seed: 20_261_126 };

describe('best-available seats (pure choice)', () => {
  it('when seats are chosen, then none of them is taken, all are distinct and there are exactly as many as asked', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const chosen = pick(s);
        if (!chosen) return;
        expect(chosen).toHaveLength(s.request.quantity);
        expect(new Set(chosen).size).toBe(chosen.length);
        for (const n of chosen) expect(s.free[n - 1]).toBe(true);
      }),
      RUNS,
    );
  });

  it('when adjacent seats are asked for, then they are consecutive numbers in one row', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const chosen = pick({ ...s, request: { ...s.request, adjacent: true } });
        if (!chosen) return;
        chosen.forEach((n, i) => expect(n).toBe(chosen[0]! + i));
        expect(new Set(chosen.map((n) => s.layout.rows[n - 1])).size).toBe(1);
      }),
      RUNS,
    );
  });

  it('when a grade is asked for, then every seat chosen has it', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const chosen = pick(s);
        if (!chosen || s.request.grade === undefined) return;
        for (const n of chosen) expect(s.layout.grades[n - 1]).toBe(s.request.grade);
      }),
      RUNS,
    );
  });

  it('when the chosen block strands a single free seat, then every block of its row would have (and no earlier row has one)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const adjacent = { ...s, request: { ...s.request, adjacent: true } };
        const chosen = pick(adjacent);
        if (!chosen) return;
        const row = s.layout.rows[chosen[0]! - 1]!;
        const blocks = allBlocks(adjacent);
        expect(blocks.some((b) => s.layout.rows[b[0]! - 1]! < row)).toBe(false);
        if (strandsSingle(adjacent, chosen)) {
          expect(blocks.filter((b) => s.layout.rows[b[0]! - 1] === row).every((b) => strandsSingle(adjacent, b))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('when no choice satisfies the request, then nothing is chosen; when one does, a choice is made (all or nothing)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const possible = s.request.adjacent
          ? allBlocks(s).length > 0
          : s.free.filter((f, i) => f && fits(s, i + 1)).length >= s.request.quantity;
        expect(pick(s) !== undefined).toBe(possible);
      }),
      RUNS,
    );
  });

  it('when asked twice, then the same seats come back; and they are exactly what the stated rules choose', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        expect(pick(s)).toEqual(pick(structuredClone(s)));
        expect(pick(s)).toEqual(oracle(s));
      }),
      RUNS,
    );
  });

  it('when a row of 10 has seats 1 and 5 taken, then 2 seats are 6–7 (2–3 would strand 4) and 3 seats are 2–4 (the row has no better)', () => {
    const layout = { seatCount: 10, rows: seatRows(10, 10), grades: Array<string>(10).fill('R') };
    const free = Array.from({ length: 10 }, (_, i) => ![1, 5].includes(i + 1));
    expect(pickBestSeats(layout, isFreeIn(free), { quantity: 2, adjacent: true })).toEqual([6, 7]);
    expect(pickBestSeats(layout, isFreeIn(free), { quantity: 3, adjacent: true })).toEqual([2, 3, 4]);
    expect(pickBestSeats(layout, isFreeIn(free), { quantity: 6, adjacent: true })).toBeUndefined();
  });
});

describe('seat rows', () => {
  it('when the schedule alone gives rowLength, then row k is seats (k-1)·R+1 .. k·R', () => {
    expect(seatRows(7, 3)).toEqual([1, 1, 1, 2, 2, 2, 3]);
  });

  it('when a section gives its own rowLength, then its rows start at fromSeat and the schedule grid resumes after it', () => {
    // R = 10; section 5..12 with rows of 4: 1–4 | 5–8 | 9–12 | 13–20 | 21–22
    const rows = seatRows(22, 10, [{ fromSeat: 5, toSeat: 12, rowLength: 4 }]);
    const starts = rows.map((row, i) => (i === 0 || rows[i - 1] !== row ? i + 1 : 0)).filter((n) => n > 0);
    expect(starts).toEqual([1, 5, 9, 13, 21]);
    expect(rows[21]).toBe(5);
  });

  it('when a section has no rowLength, then it follows the schedule grid', () => {
    expect(seatRows(6, 2, [{ fromSeat: 2, toSeat: 5 }])).toEqual([1, 1, 2, 2, 3, 3]);
  });
});
