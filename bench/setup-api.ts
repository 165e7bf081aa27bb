/**
 * The harness's client for setup and verification: the admin API and a few reads, with fetch.
 * Not on the measured path (the load generator has its own client), so clarity over speed; every
 * unexpected answer throws with the status and body.
 */
export interface CreatedSchedule {
  scheduleId: string;
  startsAt: string;
  seatCount: number;
}

export interface CreatedConcert {
  concertId: string;
  title: string;
  schedules: CreatedSchedule[];
}

export interface SeatMap {
  scheduleId: string;
  seats: { seatNo: number; grade: string; price: number; status: 'AVAILABLE' | 'HELD' | 'SOLD' }[];
}

export class SetupApi {
  constructor(
    readonly baseUrl: string,
    private readonly adminKey: string,
  ) {}

  private async call<T>(method: string, path: string, expected: number[], body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!expected.includes(response.status)) {
      throw new Error(`setup: ${method} ${path} answered ${response.status} (expected ${expected.join('/')}): ${text.slice(0, 500)}`);
    }
    return JSON.parse(text) as T;
  }

  /** One concert; `schedules` schedules of `seats` seats each at `price`, a day apart. */
  createConcert(title: string, schedules: number, seats: number, price: number): Promise<CreatedConcert> {
    const start = Date.parse('2027-05-01T19:00:00Z');
    return this.call<CreatedConcert>(
      'POST',
      '/v1/admin/concerts',
      [201],
      {
        title,
        venue: 'bench hall',
        schedules: Array.from({ length: schedules }, (_, i) => ({
          startsAt: new Date(start + i * 86_400_000).toISOString(),
          seatCount: seats,
          price,
        })),
      },
      { 'x-admin-key': this.adminKey },
    );
  }

  charge(userId: string, amount: number, idempotencyKey: string): Promise<{ balance: number }> {
    return this.call('POST', `/v1/users/${userId}/balance/charges`, [200], { amount }, { 'idempotency-key': idempotencyKey });
  }

  seatMap(scheduleId: string): Promise<SeatMap> {
    return this.call('GET', `/v1/schedules/${scheduleId}/seats`, [200]);
  }

  balance(userId: string): Promise<{ balance: number }> {
    return this.call('GET', `/v1/users/${userId}/balance`, [200]);
  }
}

/** Runs `work` over `items` with at most `concurrency` at once; the first failure rejects. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
