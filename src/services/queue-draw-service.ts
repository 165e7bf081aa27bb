/** The pre-queue draw of a concert, as the admin endpoint shows it (api.md, "On-sale time and the pre-queue"). */
import { AppError } from './app-error';
import type { QueueDrawStore } from '../queue/queue-draws';
import type { ScheduleDirectory } from './schedule-directory';

export interface QueueDrawView {
  concertId: string;
  onSaleAt: string;
  drawnAt: string;
  seed: string;
  count: number;
}

export class QueueDrawService {
  constructor(
    private readonly concerts: ScheduleDirectory,
    private readonly draws: QueueDrawStore,
    private readonly now: () => number = Date.now,
  ) {}

  async find(concertId: string): Promise<QueueDrawView> {
    const concert = await this.concerts.findConcert(concertId);
    if (!concert) throw new AppError('CONCERT_NOT_FOUND');
    const draw = await this.draws.find(concertId);
    if (draw) {
      const { seed, count } = draw;
      return { concertId, onSaleAt: new Date(draw.onSaleAt).toISOString(), drawnAt: new Date(draw.drawnAt).toISOString(), seed, count };
    }
    if (concert.onSaleAt === null) throw new AppError('QUEUE_DRAW_NOT_FOUND', 'the concert has no on-sale time: its line is never drawn');
    if (this.now() < Date.parse(concert.onSaleAt)) {
      throw new AppError('QUEUE_DRAW_NOT_FOUND', `the line is drawn at the on-sale time, ${concert.onSaleAt}`, {
        extensions: { opensAt: concert.onSaleAt },
      });
    }
    // The draw is made by the line's first operation at or after the on-sale time (its sweep, an
    // issue or a poll); a line nobody joined has not been drawn.
    throw new AppError('QUEUE_DRAW_NOT_FOUND', 'the sale is open but nobody has joined the line since: it is drawn when somebody does');
  }
}
