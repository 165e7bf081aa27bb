/**
 * Talks to the app through HTTP (fastify inject). `arrange` helpers throw when the server says
 * no (setup must succeed); `act` returns the raw response for the test to judge.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ADMIN_KEY } from './test-app';

export interface Response<T = any> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
}

export interface Request {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function act<T = any>(app: FastifyInstance, request: Request): Promise<Response<T>> {
  const response = await app.inject({
    method: request.method,
    url: request.url,
    payload: request.body as object | undefined,
    headers: request.headers,
  });
  const text = response.body;
  return { status: response.statusCode, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

async function arrange<T = any>(app: FastifyInstance, request: Request, expected: number[]): Promise<T> {
  const response = await act<T>(app, request);
  if (!expected.includes(response.status)) {
    throw new Error(`${request.method} ${request.url} → ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

export interface ConcertOptions {
  seatCount?: number;
  price?: number;
  schedules?: number;
}

export async function createConcert(app: FastifyInstance, options: ConcertOptions = {}) {
  const schedules = Array.from({ length: options.schedules ?? 1 }, (_, i) => ({
    startsAt: new Date(Date.UTC(2099, 0, 1 + i, 19)).toISOString(),
    seatCount: options.seatCount ?? 50,
    price: options.price ?? 10_000,
  }));
  return arrange<{ concertId: string; schedules: { scheduleId: string }[] }>(
    app,
    {
      method: 'POST',
      url: '/v1/admin/concerts',
      headers: { 'x-admin-key': ADMIN_KEY },
      body: { title: `Concert ${randomUUID().slice(0, 8)}`, venue: 'Olympic Hall', schedules },
    },
    [201],
  );
}

export async function issueToken(app: FastifyInstance, userId: string, concertId: string) {
  return arrange<{ token: string; status: string; position: number }>(
    app,
    { method: 'POST', url: '/v1/queue/tokens', body: { userId, concertId } },
    [200, 201],
  );
}

export async function charge(app: FastifyInstance, userId: string, amount: number) {
  return arrange<{ balance: number }>(
    app,
    {
      method: 'POST',
      url: `/v1/users/${userId}/balance/charges`,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount },
    },
    [200],
  );
}

export function holdRequest(token: string, scheduleId: string, seatNos: number[]): Request {
  return { method: 'POST', url: '/v1/reservations', headers: { 'queue-token': token }, body: { scheduleId, seatNos } };
}

export async function hold(app: FastifyInstance, token: string, scheduleId: string, seatNos: number[]) {
  return arrange<{ reservationId: string; amount: number; expiresAt: string }>(
    app,
    holdRequest(token, scheduleId, seatNos),
    [201],
  );
}

export function payRequest(token: string, reservationId: string, idempotencyKey: string = randomUUID()): Request {
  return {
    method: 'POST',
    url: '/v1/payments',
    headers: { 'queue-token': token, 'idempotency-key': idempotencyKey },
    body: { reservationId },
  };
}

export async function seatStatuses(app: FastifyInstance, scheduleId: string): Promise<Map<number, string>> {
  const map = await arrange<{ seats: { seatNo: number; status: string }[] }>(
    app,
    { method: 'GET', url: `/v1/schedules/${scheduleId}/seats` },
    [200],
  );
  return new Map(map.seats.map((seat) => [seat.seatNo, seat.status]));
}

/** A user with an ACTIVE token for the concert (the queue must have room). */
export async function activeUser(app: FastifyInstance, concertId: string) {
  const userId = randomUUID();
  const { token, status } = await issueToken(app, userId, concertId);
  if (status !== 'ACTIVE') throw new Error(`token is ${status}, expected ACTIVE`);
  return { userId, token };
}
