/**
 * On-sale time and the pre-queue over HTTP (api.md, "On-sale time and the pre-queue"; README,
 * "Waiting line"): tokens before the on-sale time, the draw at it (recorded once, shown to the
 * admin, its seed's order is the line's order), a restart at the on-sale moment, and the sale
 * window of holds (403 SALE_NOT_OPEN, 409 SALE_CLOSED) on every engine. The on-sale times are a
 * few seconds ahead of the real clock; `eventually` waits for them, never a fixed sleep.
 *
 * Runs with the Redis line (npm test's first pass) and the in-process line (TEST_QUEUE=memory,
 * the embedded pass), which loses its tokens on a restart: the restart test says what happens then.
 */
import { randomUUID } from 'node:crypto';
import { drawOrder } from '../../src/domain/seeded-shuffle';
import { act, activeUser, charge, hold, holdRequest, issueToken, payRequest } from '../support/api-client';
import { eventually, untilPast } from '../support/eventually';
import { ADMIN_KEY, ENGINES, startTestApp, TEST_QUEUE, type TestApp } from '../support/test-app';
import type { FastifyInstance } from 'fastify';

const admin = { 'x-admin-key': ADMIN_KEY };

async function concertOnSale(app: FastifyInstance, onSaleAt: number | null, startsAt = Date.now() + 86_400_000) {
  const response = await act(app, {
    method: 'POST',
    url: '/v1/admin/concerts',
    headers: admin,
    body: {
      title: `pre-sale ${randomUUID().slice(0, 8)}`,
      ...(onSaleAt === null ? {} : { onSaleAt: new Date(onSaleAt).toISOString() }),
      schedules: [{ startsAt: new Date(startsAt).toISOString(), seatCount: 20, price: 1_000 }],
    },
  });
  if (response.status !== 201) throw new Error(`create concert → ${response.status} ${JSON.stringify(response.body)}`);
  return { concertId: response.body.concertId as string, scheduleId: response.body.schedules[0].scheduleId as string, body: response.body };
}

const current = (app: FastifyInstance, token: string) =>
  act(app, { method: 'GET', url: '/v1/queue/tokens/current', headers: { 'queue-token': token } });
const queueDraw = (app: FastifyInstance, concertId: string) =>
  act(app, { method: 'GET', url: `/v1/admin/concerts/${concertId}/queue-draw`, headers: admin });

/** With QUEUE_MAX_ACTIVE=1 the line's order is the tokens sorted by position (the ACTIVE one is 0). */
async function lineOrder(app: FastifyInstance, tokens: string[]): Promise<string[]> {
  const positions = await Promise.all(tokens.map(async (token) => [token, (await current(app, token)).body.position] as const));
  return positions.sort((a, b) => a[1] - b[1]).map(([token]) => token);
}

describe(`pre-queue over HTTP (${TEST_QUEUE} line)`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ QUEUE_MAX_ACTIVE: '1', RESERVATION_ENGINE: ENGINES[0]! });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when users come before onSaleAt, then they wait without a place, cannot hold (403 SALE_NOT_OPEN), and at onSaleAt the line is the recorded seed\'s order, later arrivals at its end', async () => {
    const onSaleAt = Date.now() + 2_500;
    const { concertId, scheduleId, body } = await concertOnSale(t.app, onSaleAt);
    expect(body.onSaleAt).toBe(new Date(onSaleAt).toISOString());
    const listed = await act(t.app, { method: 'GET', url: '/v1/concerts' });
    expect(listed.body.concerts.find((c: { concertId: string }) => c.concertId === concertId).onSaleAt).toBe(body.onSaleAt);

    const tokens: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      const issued = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: randomUUID(), concertId } });
      expect(issued.status).toBe(201);
      expect(issued.body).toMatchObject({ status: 'WAITING', position: null, activeUntil: null, opensAt: body.onSaleAt });
      tokens.push(issued.body.token);
    }
    const polled = await current(t.app, tokens[0]!);
    expect(polled.body).toMatchObject({ status: 'WAITING', position: null, opensAt: body.onSaleAt });

    const early = await act(t.app, holdRequest(tokens[0]!, scheduleId, [1]));
    expect(early.status).toBe(403);
    expect(early.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(early.body).toMatchObject({ code: 'SALE_NOT_OPEN', opensAt: body.onSaleAt });
    const notYet = await queueDraw(t.app, concertId);
    expect(notYet.status).toBe(404);
    expect(notYet.body.code).toBe('QUEUE_DRAW_NOT_FOUND');

    // The admission sweep draws within a quarter second of onSaleAt.
    const draw = await eventually(async () => {
      const answer = await queueDraw(t.app, concertId);
      return answer.status === 200 ? answer.body : undefined;
    });
    expect(draw).toEqual({ concertId, onSaleAt: body.onSaleAt, drawnAt: expect.any(String), seed: expect.stringMatching(/^[0-9a-f]{32}$/), count: 6 });
    expect(Date.parse(draw.drawnAt)).toBeGreaterThanOrEqual(onSaleAt - 1_000);

    const expected = drawOrder(tokens, draw.seed);
    expect(await lineOrder(t.app, tokens)).toEqual(expected);
    const first = await current(t.app, expected[0]!);
    expect(first.body).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(first.body.opensAt).toBeUndefined();
    expect((await act(t.app, holdRequest(expected[0]!, scheduleId, [1]))).status).toBe(201);

    const late = await issueToken(t.app, randomUUID(), concertId);
    expect(late).toMatchObject({ status: 'WAITING', position: 6 });
    expect((await queueDraw(t.app, concertId)).body).toEqual(draw);
  });

  it('when a concert has no onSaleAt, then its line is FIFO at once and there is no draw to show', async () => {
    const { concertId, body } = await concertOnSale(t.app, null);
    expect(body.onSaleAt).toBeNull();
    expect(await issueToken(t.app, randomUUID(), concertId)).toMatchObject({ status: 'ACTIVE', position: 0 });
    const none = await queueDraw(t.app, concertId);
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('QUEUE_DRAW_NOT_FOUND');
    expect((await queueDraw(t.app, randomUUID())).body.code).toBe('CONCERT_NOT_FOUND');
    expect((await act(t.app, { method: 'GET', url: `/v1/admin/concerts/${concertId}/queue-draw` })).status).toBe(403);
  });

  it('when onSaleAt is not before every schedule, then creating the concert is 400 VALIDATION_FAILED', async () => {
    const startsAt = Date.now() + 60_000;
    const response = await act(t.app, {
      method: 'POST',
      url: '/v1/admin/concerts',
      headers: admin,
      body: { title: 'late sale', onSaleAt: new Date(startsAt).toISOString(), schedules: [{ startsAt: new Date(startsAt).toISOString(), seatCount: 1, price: 1 }] },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
  });

  const restartOutcome =
    TEST_QUEUE === 'redis'
      ? 'the line is drawn once, by the recorded seed, and a second restart changes nothing'
      : 'the old tokens are gone with the process, who comes back lines up FIFO, and the (empty) draw stays as recorded';
  it(`when the server is stopped before onSaleAt and restarted after it, then ${restartOutcome}`, async () => {
    const onSaleAt = Date.now() + 1_500;
    const { concertId } = await concertOnSale(t.app, onSaleAt);
    const tokens: string[] = [];
    for (let index = 0; index < 5; index += 1) tokens.push((await issueToken(t.app, randomUUID(), concertId)).token);

    await t.restart({}, () => untilPast(onSaleAt, 200));

    if (TEST_QUEUE === 'redis') {
      // The tokens outlived the server in Redis: the new server's sweep draws them.
      const draw = await eventually(async () => {
        const answer = await queueDraw(t.app, concertId);
        return answer.status === 200 ? answer.body : undefined;
      });
      expect(draw.count).toBe(5);
      expect(await lineOrder(t.app, tokens)).toEqual(drawOrder(tokens, draw.seed));

      await t.restart();
      expect((await queueDraw(t.app, concertId)).body).toEqual(draw);
      expect(await lineOrder(t.app, tokens)).toEqual(drawOrder(tokens, draw.seed));
    } else {
      // The in-process line is gone with the process (README, "Waiting line"): the old tokens are
      // unknown, and whoever comes back joins the line in the order they come, behind nobody.
      expect((await current(t.app, tokens[0]!)).status).toBe(401);
      const back = [];
      for (let index = 0; index < 3; index += 1) back.push(await issueToken(t.app, randomUUID(), concertId));
      expect(back.map((token) => [token.status, token.position])).toEqual([['ACTIVE', 0], ['WAITING', 1], ['WAITING', 2]]);
      const draw = (await queueDraw(t.app, concertId)).body;
      expect(draw.count).toBe(0);
      await t.restart();
      expect((await queueDraw(t.app, concertId)).body).toEqual(draw);
    }
  });
});

describe.each(ENGINES)('sale window of holds (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the schedule has started, then a new hold is 409 SALE_CLOSED, while a hold taken before may still be paid', async () => {
    const startsAt = Date.now() + 2_000;
    const { concertId, scheduleId } = await concertOnSale(t.app, null, startsAt);
    const buyer = await activeUser(t.app, concertId);
    await charge(t.app, buyer.userId, 1_000);
    const held = await hold(t.app, buyer.token, scheduleId, [3]);

    await untilPast(startsAt);

    const closed = await act(t.app, holdRequest(buyer.token, scheduleId, [4]));
    expect(closed.status).toBe(409);
    expect(closed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(closed.body).toMatchObject({ code: 'SALE_CLOSED', title: 'The schedule has started; the sale is closed' });
    const paid = await act(t.app, payRequest(buyer.token, held.reservationId));
    expect(paid.status).toBe(201);
  });

  it('when the sale has not opened, then a hold is 403 SALE_NOT_OPEN whatever the token', async () => {
    const { concertId, scheduleId } = await concertOnSale(t.app, Date.now() + 60_000);
    const { token } = await issueToken(t.app, randomUUID(), concertId);
    const answer = await act(t.app, holdRequest(token, scheduleId, [1]));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ code: 'SALE_NOT_OPEN', title: 'The sale of this concert has not opened yet' });
  });
});
