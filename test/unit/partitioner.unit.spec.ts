import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionOf } from '../../src/cluster/partitioner';

describe('ownership partitioner', () => {
  it('puts a schedule on the partition Kafka’s default partitioner picks for its key', () => {
    const partitions = 48;
    const kafka = Partitioners.DefaultPartitioner();
    const metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const keys = [...Array.from({ length: 2_000 }, () => randomUUID()), '', 'a', 'ab', 'abc', 'ünïcødé-schedule'];
    for (const key of keys) {
      const expected = kafka({ topic: 'ovation.ownership', partitionMetadata: metadata, message: { key, value: null } });
      expect(partitionOf(key, partitions)).toBe(expected);
    }
  });

  it('matches the Java client’s murmur2 on known vectors', () => {
    // Vectors from Apache Kafka's UtilsTest.testMurmur2.
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
  });

  it('spreads schedules over every partition', () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[partitionOf(randomUUID(), 12)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});
