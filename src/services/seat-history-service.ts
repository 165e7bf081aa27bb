/** A seat's history for operators (GET /v1/admin/schedules/{scheduleId}/seats/{seatNo}/history). */
import { AppError } from './app-error';
import type { ReservationEngine, SeatHistory } from '../engine/reservation-engine';
import type { ScheduleDirectory } from './schedule-directory';

export class SeatHistoryService {
  constructor(
    private readonly engine: ReservationEngine,
    private readonly schedules: ScheduleDirectory,
  ) {}

  async of(scheduleId: string, seatNo: number): Promise<SeatHistory & { scheduleId: string; seatNo: number }> {
    const schedule = await this.schedules.find(scheduleId);
    if (!schedule) throw new AppError('SCHEDULE_NOT_FOUND');
    if (seatNo > schedule.seatCount) throw new AppError('SEAT_NOT_FOUND', `the schedule's seats are 1..${schedule.seatCount}`);
    const history = await this.engine.seatHistory(scheduleId, seatNo);
    return { scheduleId, seatNo, ...history };
  }
}
