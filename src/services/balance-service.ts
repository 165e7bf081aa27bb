/** Balance reads. Money comes in through charges (charge-service.ts) and leaves through payments. */
import type { BalanceRepository } from '../persistence/balance-repository';

export class BalanceService {
  constructor(private readonly balances: BalanceRepository) {}

  async balance(userId: string): Promise<{ userId: string; balance: number }> {
    return { userId, balance: await this.balances.balanceOf(userId) };
  }
}
