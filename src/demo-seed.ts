/**
 * Embedded mode's first start (an empty database) gets a demo concert, so that `npm start` shows
 * ovation working at once: three schedules of 50 seats a month ahead, one of them priced by
 * section. Created through the same repository as POST /v1/admin/concerts.
 */
import type { CatalogueRepository } from './persistence/catalogue-repository';

const DAY_MS = 86_400_000;

export interface DemoConcert {
  concertId: string;
  scheduleIds: string[];
}

export async function seedDemoIfEmpty(catalogue: CatalogueRepository, now = Date.now()): Promise<DemoConcert | undefined> {
  if ((await catalogue.listConcerts()).length > 0) return undefined;
  const evening = (days: number) => {
    const date = new Date(now + days * DAY_MS);
    date.setUTCHours(10, 0, 0, 0); // 19:00 in Seoul
    return date.toISOString();
  };
  const created = await catalogue.createConcert({
    title: 'ovation demo: Olympic Hall live',
    venue: 'Olympic Hall, Seoul',
    schedules: [
      {
        startsAt: evening(30),
        seatCount: 50,
        price: 99_000,
        sections: [
          { grade: 'VIP', fromSeat: 1, toSeat: 10, price: 154_000 },
          { grade: 'R', fromSeat: 11, toSeat: 30, price: 121_000 },
        ],
      },
      { startsAt: evening(31), seatCount: 50, price: 99_000 },
      { startsAt: evening(32), seatCount: 50, price: 99_000 },
    ],
  });
  return { concertId: created.concertId, scheduleIds: created.schedules.map((s) => s.scheduleId) };
}
