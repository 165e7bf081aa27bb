/**
 * Confirmations leave through the outbox to a real Kafka: the record format of api.md, at least
 * once across a relay crash between publish and mark, and in order per schedule across a Kafka
 * outage while payments go on.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { act, activeUser, charge, createConcert, hold, payRequest } from '../support/api-client';
import { eventually } from '../support/eventually';
import { SHARED_KAFKA_BROKERS, startPrivateKafka, type PrivateKafka } from '../support/kafka-broker';
import { startTestApp, type TestApp } from '../support/test-app';
import { readTopic, type ReadRecord, type TopicReader } from '../support/topic-reader';

/** Buys one seat per buyer (seat i+1 of a schedule, round-robin over schedules); returns the 201 bodies. */
async function buySeats(t: TestApp, concert: { concertId: string; schedules: { scheduleId: string }[] }, buyers: number, firstSeat = 1) {
  const paid: { paymentId: string; reservationId: string }[] = [];
  for (let i = 0; i < buyers; i += 1) {
    const schedule = concert.schedules[i % concert.schedules.length]!;
    const seatNo = firstSeat + Math.floor(i / concert.schedules.length);
    const buyer = await activeUser(t.app, concert.concertId);
    await charge(t.app, buyer.userId, 1_000);
    const held = await hold(t.app, buyer.token, schedule.scheduleId, [seatNo]);
    const payment = await act(t.app, payRequest(buyer.token, held.reservationId));
    if (payment.status !== 201) throw new Error(`payment → ${payment.status} ${JSON.stringify(payment.body)}`);
    paid.push(payment.body);
  }
  return paid;
}

const outboxRows = async (t: TestApp) =>
  (
    await t.services.db.query<{ id: number; event_id: string; key: string; published: boolean }>(
      'SELECT id, event_id, message_key AS key, published_at IS NOT NULL AS published FROM outbox ORDER BY id',
    )
  ).rows;

const metric = async (t: TestApp, name: string) => {
  const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
};

/** Per key, the event ids in the order Kafka holds them, duplicates after the first dropped. */
function firstOccurrencesByKey(records: readonly ReadRecord[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  const seen = new Set<string>();
  const ordered = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const record of ordered) {
    const eventId = record.headers['event-id']!;
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    byKey.set(record.key, [...(byKey.get(record.key) ?? []), eventId]);
  }
  return byKey;
}

describe('outbox relay to Kafka', () => {
  let t: TestApp | undefined;
  let reader: TopicReader | undefined;
  let kafka: PrivateKafka | undefined;
  afterEach(async () => {
    await reader?.close();
    await t?.close();
    await kafka?.remove();
    [t, reader, kafka] = [undefined, undefined, undefined];
  });

  it('when payments are confirmed, then each appears once on the topic with key = scheduleId, headers event-id and type, and the api.md value', async () => {
    const topic = `test.confirmed.${randomUUID()}`;
    reader = await readTopic(SHARED_KAFKA_BROKERS, topic);
    t = await startTestApp({ KAFKA_BROKERS: SHARED_KAFKA_BROKERS, KAFKA_TOPIC_CONFIRMED: topic, QUEUE_MAX_ACTIVE: '1000' });
    const concert = await createConcert(t.app, { seatCount: 20, price: 1_000, schedules: 2 });
    const paid = await buySeats(t, concert, 6);

    const records = await reader.waitFor((r) => r.length >= 6);
    await eventually(async () => (await outboxRows(t!)).every((row) => row.published));
    expect(records).toHaveLength(6);
    expect(new Set(records.map((r) => r.value.paymentId))).toEqual(new Set(paid.map((p) => p.paymentId)));
    for (const record of records) {
      expect(record.key).toBe(record.value.scheduleId);
      expect(record.headers).toEqual({ 'event-id': record.value.eventId, type: 'ReservationConfirmed' });
      expect(Object.keys(record.value).sort()).toEqual(
        ['amount', 'confirmedAt', 'eventId', 'paymentId', 'reservationId', 'scheduleId', 'seatNos', 'type', 'userId'].sort(),
      );
      expect(record.value).toMatchObject({ type: 'ReservationConfirmed', amount: 1_000 });
    }
    expect(await metric(t, 'ovation_outbox_pending')).toBe(0);
    expect(await metric(t, 'ovation_outbox_published_total')).toBe(6);
  });

  it('when the relay is killed between publish and mark, then the batch is published again and every confirmation is on the topic (same eventIds)', async () => {
    const topic = `test.confirmed.${randomUUID()}`;
    reader = await readTopic(SHARED_KAFKA_BROKERS, topic);
    t = await startTestApp({ KAFKA_TOPIC_CONFIRMED: topic, QUEUE_MAX_ACTIVE: '1000' }); // relay off: rows wait
    const concert = await createConcert(t.app, { seatCount: 20, price: 1_000 });
    await buySeats(t, concert, 8);
    expect((await outboxRows(t)).filter((row) => !row.published)).toHaveLength(8);

    const fixture = path.resolve(__dirname, '../support/relay-crash-fixture.ts');
    const crash = await new Promise<{ signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', fixture],
        { env: { ...process.env, DATABASE_URL: t!.database.url, KAFKA_BROKERS: SHARED_KAFKA_BROKERS, OUTBOX_BATCH_SIZE: '5' }, timeout: 60_000 },
        (_error, stdout) => resolve({ signal: child.signalCode, stdout }),
      );
    });
    // The fault happened where it matters: Kafka has the first batch, the table says unpublished.
    expect(crash.signal).toBe('SIGKILL');
    expect(crash.stdout).toMatch(/^published (\d+,){4}\d+\n$/);
    await reader.waitFor((r) => r.length >= 5);
    expect((await outboxRows(t)).filter((row) => !row.published)).toHaveLength(8);

    await t.restart({ KAFKA_BROKERS: SHARED_KAFKA_BROKERS, KAFKA_TOPIC_CONFIRMED: topic, QUEUE_MAX_ACTIVE: '1000' });
    const records = await reader.waitFor((r) => new Set(r.map((x) => x.headers['event-id'])).size >= 8);
    await eventually(async () => (await outboxRows(t!)).every((row) => row.published));
    const rows = await outboxRows(t);
    expect(new Set(records.map((r) => r.headers['event-id']))).toEqual(new Set(rows.map((row) => row.event_id)));
    expect(records).toHaveLength(13); // the first batch of 5 twice, duplicates carry the same eventId
    expect(firstOccurrencesByKey(records).get(concert.schedules[0]!.scheduleId)).toEqual(rows.map((row) => row.event_id));
  });

  it('when Kafka is down for 30 s while payments go on, then payments succeed, the outbox grows, and afterwards every record is delivered in order per schedule', async () => {
    kafka = await startPrivateKafka();
    const topic = `test.confirmed.${randomUUID()}`;
    reader = await readTopic(kafka.brokers, topic);
    t = await startTestApp({ KAFKA_BROKERS: kafka.brokers, KAFKA_TOPIC_CONFIRMED: topic, QUEUE_MAX_ACTIVE: '10000', OUTBOX_PUBLISH_TIMEOUT_MS: '2000' });
    const concert = await createConcert(t.app, { seatCount: 500, price: 1_000, schedules: 3 });
    await buySeats(t, concert, 6);
    await reader.waitFor((r) => r.length >= 6);
    await reader.close();
    reader = undefined;

    await kafka.stop();
    const downSince = Date.now();
    let buyers = 6;
    const pendingSeen: number[] = [];
    while (Date.now() - downSince < 30_000) {
      await buySeats(t, concert, 3, 1 + buyers / 3);
      buyers += 3;
      pendingSeen.push(await metric(t, 'ovation_outbox_pending'));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await metric(t, 'ovation_outbox_publish_failures_total')).toBeGreaterThan(0);
    expect(pendingSeen.at(-1)).toBe(buyers - 6);
    expect(await metric(t, 'ovation_outbox_oldest_age_seconds')).toBeGreaterThan(20);

    await kafka.start();
    await eventually(async () => (await outboxRows(t!)).every((row) => row.published), { timeoutMs: 60_000, intervalMs: 200 });
    reader = await readTopic(kafka.brokers, topic);
    const rows = await outboxRows(t);
    const records = await reader.waitFor((r) => new Set(r.map((x) => x.headers['event-id'])).size >= rows.length);
    expect(new Set(records.map((r) => r.headers['event-id']))).toEqual(new Set(rows.map((row) => row.event_id)));
    const delivered = firstOccurrencesByKey(records);
    for (const schedule of concert.schedules) {
      const expected = rows.filter((row) => row.key === schedule.scheduleId).map((row) => row.event_id);
      expect(delivered.get(schedule.scheduleId)).toEqual(expected);
    }
    expect(await metric(t, 'ovation_outbox_pending')).toBe(0);
  }, 180_000);
});
