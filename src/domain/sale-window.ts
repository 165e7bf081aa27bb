/**
 * When a schedule may be held (api.md, "Errors and outcomes"): from its concert's on-sale time
 * (if any) until the schedule starts. Pure, so every engine refuses alike, before any engine runs.
 */
export type SaleWindow = 'NOT_OPEN' | 'OPEN' | 'CLOSED';

export function saleWindow(now: number, schedule: { onSaleAt: string | null; startsAt: string }): SaleWindow {
  if (schedule.onSaleAt !== null && now < Date.parse(schedule.onSaleAt)) return 'NOT_OPEN';
  if (now >= Date.parse(schedule.startsAt)) return 'CLOSED';
  return 'OPEN';
}
