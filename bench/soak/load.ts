/**
 * The catalogue of the soak (concerts × schedules through the admin API) and the buyers that shop
 * in it until told to stop.
 */
import { Buyer, type BuyerCounters, type ConcertInfo } from './buyer';
import type { SoakClient } from './client';
import type { Rng } from './rng';

export interface CatalogueSpec {
  concerts: number;
  schedulesPerConcert: number;
  seatsPerSchedule: number;
  adminKey: string;
}

export async function createCatalogue(baseUrl: string, spec: CatalogueSpec, rng: Rng): Promise<ConcertInfo[]> {
  const concerts: ConcertInfo[] = [];
  const start = Date.parse('2027-06-01T19:00:00Z');
  for (let c = 0; c < spec.concerts; c++) {
    const schedules = Array.from({ length: spec.schedulesPerConcert }, (_, s) => ({
      startsAt: new Date(start + (c * 10 + s) * 86_400_000).toISOString(),
      seatCount: spec.seatsPerSchedule,
      price: rng.int(1, 5) * 10_000,
    }));
    const response = await fetch(`${baseUrl}/v1/admin/concerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': spec.adminKey },
      body: JSON.stringify({ title: `Soak concert ${c + 1}`, venue: 'Soak Arena', schedules }),
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`creating concert ${c + 1}: ${response.status} ${text.slice(0, 300)}`);
    const created = JSON.parse(text) as { concertId: string; schedules: { scheduleId: string; seatCount: number }[] };
    concerts.push({
      concertId: created.concertId,
      schedules: created.schedules.map((s, i) => ({ scheduleId: s.scheduleId, seatCount: s.seatCount, price: schedules[i]!.price })),
    });
  }
  return concerts;
}

export interface RunningLoad {
  buyers: Buyer[];
  /** Stops the buyers after their current step (requests whose outcome is unknown are replayed first). */
  stop(): Promise<void>;
  counters(): BuyerCounters;
}

export function startLoad(client: SoakClient, catalogue: ConcertInfo[], buyers: number, rng: Rng): RunningLoad {
  let stopping = false;
  const all = Array.from({ length: buyers }, (_, i) => new Buyer(client, catalogue, catalogue[i % catalogue.length]!, rng.fork(i), () => stopping));
  const runs = all.map((buyer) => buyer.run());
  return {
    buyers: all,
    async stop() {
      stopping = true;
      await Promise.all(runs);
    },
    counters() {
      const total: BuyerCounters = { cycles: 0, holds: 0, cancels: 0, abandoned: 0, payments: 0, charges: 0, unexpected: 0 };
      for (const buyer of all) for (const name of Object.keys(total) as (keyof BuyerCounters)[]) total[name] += buyer.counters[name];
      return total;
    },
  };
}
