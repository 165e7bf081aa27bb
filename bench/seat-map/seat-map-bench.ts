/**
 * What a seat-map read costs after a commit on a large schedule, in process (no HTTP): the first
 * read builds every seat's JSON (what every read after a change cost before chunking), the reads
 * after one hold rebuild one chunk. Same process, same run, so the ratio is fair.
 *
 *   npx ts-node --transpile-only bench/seat-map/seat-map-bench.ts [--seats 100000] [--rounds 200]
 */
import { cpus } from 'node:os';
import { SeatMapView } from '../../src/actors/seat-map-view';
import { emptyState } from '../../src/domain/schedule-state';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const seats = option('--seats', 100_000);
const rounds = option('--rounds', 200);
const catalogue = {
  seatCount: seats,
  grades: Array.from({ length: seats }, (_, i) => (i < seats / 10 ? 'VIP' : 'R')),
  rows: Array.from({ length: seats }, (_, i) => Math.floor(i / 10) + 1),
  prices: Array.from({ length: seats }, (_, i) => 50_000 + (i % 7) * 1_000),
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const fullBuilds: number[] = [];
const afterOneHold: number[] = [];
for (let round = 0; round < rounds; round++) {
  const view = new SeatMapView('s', catalogue, emptyState('s', catalogue));
  let started = performance.now();
  const first = view.json();
  fullBuilds.push(performance.now() - started);
  const seatNo = 1 + ((round * 7_919) % seats);
  view.applyCommitted({ type: 'SeatsHeld', reservationId: `r${round}`, userId: 'u', seatNos: [seatNo], amount: 1, expiresAt: 1, at: 0 });
  started = performance.now();
  const second = view.json();
  afterOneHold.push(performance.now() - started);
  if (second.length !== first.length - 'AVAILABLE'.length + 'HELD'.length) throw new Error('the map did not change by one seat');
}
console.log(
  JSON.stringify({
    seats,
    rounds,
    cores: cpus().length,
    fullBuildMedianMs: Number(median(fullBuilds).toFixed(2)),
    afterOneHoldMedianMs: Number(median(afterOneHold).toFixed(2)),
    ratio: Number((median(fullBuilds) / median(afterOneHold)).toFixed(1)),
  }),
);
