import { randomUUID } from 'node:crypto';
import { eventually } from '../support/eventually';
import { startTestApp, TEST_QUEUE, type TestApp } from '../support/test-app';
import { act, charge, createConcert, hold, holdRequest, issueToken, payRequest } from '../support/api-client';

describe('waiting queue over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ QUEUE_MAX_ACTIVE: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const current = (token: string) =>
    act(t.app, { method: 'GET', url: '/v1/queue/tokens/current', headers: { 'queue-token': token } });

  it('when 5 users line up with room for 2, then 3..5 wait at 1..3, cannot hold, and move up in order when a slot frees', async () => {
    const concert = await createConcert(t.app, { price: 1_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const users = Array.from({ length: 5 }, () => randomUUID());
    const tokens = [];
    for (const userId of users) tokens.push(await issueToken(t.app, userId, concert.concertId));

    expect(tokens.map((tk) => [tk.status, tk.position])).toEqual([
      ['ACTIVE', 0],
      ['ACTIVE', 0],
      ['WAITING', 1],
      ['WAITING', 2],
      ['WAITING', 3],
    ]);
    const waitingHold = await act(t.app, holdRequest(tokens[2]!.token, scheduleId, [1]));
    expect(waitingHold.status).toBe(403);
    expect(waitingHold.body.code).toBe('TOKEN_NOT_ACTIVE');

    // The first user pays: the token expires and the slot goes to the third user.
    await charge(t.app, users[0]!, 1_000);
    const held = await hold(t.app, tokens[0]!.token, scheduleId, [1]);
    expect((await act(t.app, payRequest(tokens[0]!.token, held.reservationId))).status).toBe(201);

    const after = await Promise.all(tokens.slice(2).map((tk) => current(tk.token)));
    expect(after.map((r) => [r.body.status, r.body.position])).toEqual([
      ['ACTIVE', 0],
      ['WAITING', 1],
      ['WAITING', 2],
    ]);
    expect((await act(t.app, holdRequest(tokens[2]!.token, scheduleId, [2]))).status).toBe(201);
  });

  it('when a user asks for a token twice, then the same token comes back with 200', async () => {
    const concert = await createConcert(t.app);
    const userId = randomUUID();
    const first = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId, concertId: concert.concertId } });
    const second = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId, concertId: concert.concertId } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.token).toBe(first.body.token);
  });

  it('when a token of one concert is used on another concert, then 403 TOKEN_WRONG_CONCERT', async () => {
    const a = await createConcert(t.app);
    const b = await createConcert(t.app);
    const { token } = await issueToken(t.app, randomUUID(), a.concertId);
    const response = await act(t.app, holdRequest(token, b.schedules[0]!.scheduleId, [1]));
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('TOKEN_WRONG_CONCERT');
  });

  it('when a token is asked for a concert that does not exist, then 404 CONCERT_NOT_FOUND', async () => {
    const response = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: randomUUID(), concertId: randomUUID() } });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('CONCERT_NOT_FOUND');
  });
});

describe('waiting queue over HTTP: WAITING tokens must be polled', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ QUEUE_MAX_ACTIVE: '1', QUEUE_WAITING_TTL_SECONDS: '1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const current = (token: string) =>
    act(t.app, { method: 'GET', url: '/v1/queue/tokens/current', headers: { 'queue-token': token } });
  const waitingKey = (concertId: string) => `${t.config.redisKeyPrefix}q:{${concertId}}:waiting`;
  /**
   * Tests that break the Redis layout behind the scripts' back. The in-process line cannot be in
   * such a partial state, so in its pass they are not registered at all (the first pass runs them).
   */
  const redisOnly: (name: string, test: () => Promise<void>) => void = TEST_QUEUE === 'memory' ? () => undefined : it;
  const redis = () => {
    if (!t.services.redis) throw new Error('this test needs the Redis waiting line');
    return t.services.redis;
  };

  it('when a WAITING token is not polled for QUEUE_WAITING_TTL_SECONDS, then it answers 401 TOKEN_INVALID, the token behind moves up, and its user starts again at the end', async () => {
    const concert = await createConcert(t.app);
    const silentUser = randomUUID();
    await issueToken(t.app, randomUUID(), concert.concertId); // ACTIVE: the line forms behind it
    const silent = await issueToken(t.app, silentUser, concert.concertId);
    const poller = await issueToken(t.app, randomUUID(), concert.concertId);
    expect([silent.position, poller.position]).toEqual([1, 2]);

    // Only the poller polls (every 200 ms, well inside its 1 s TTL) until it is first in line.
    await eventually(async () => (await current(poller.token)).body.position === 1, { intervalMs: 200 });

    const gone = await current(silent.token);
    expect(gone.status).toBe(401);
    expect(gone.body.code).toBe('TOKEN_INVALID');
    const holdWithIt = await act(t.app, holdRequest(silent.token, concert.schedules[0]!.scheduleId, [1]));
    expect(holdWithIt.status).toBe(401);
    const again = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: silentUser, concertId: concert.concertId } });
    expect(again.status).toBe(201);
    expect(again.body.token).not.toBe(silent.token);
    expect(again.body).toMatchObject({ status: 'WAITING', position: 2 });
  });

  redisOnly('when the waiting ZSET lost a WAITING token (partial state), then GET and POST answer 200 with the same token at the end of the line, never 500', async () => {
    const concert = await createConcert(t.app);
    const lostUser = randomUUID();
    await issueToken(t.app, randomUUID(), concert.concertId);
    const lost = await issueToken(t.app, lostUser, concert.concertId);
    const other = await issueToken(t.app, randomUUID(), concert.concertId);
    expect(await redis().zrem(waitingKey(concert.concertId), lost.token)).toBe(1);

    const polled = await current(lost.token);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ token: lost.token, status: 'WAITING', position: 2 });
    expect((await current(other.token)).body.position).toBe(1);

    expect(await redis().zrem(waitingKey(concert.concertId), lost.token)).toBe(1);
    const reissued = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId: lostUser, concertId: concert.concertId } });
    expect(reissued.status).toBe(200);
    expect(reissued.body).toMatchObject({ token: lost.token, status: 'WAITING', position: 2 });
  });
});
