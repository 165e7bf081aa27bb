/**
 * Which ownership partition a schedule belongs to: Kafka's default partitioner (murmur2 of the key,
 * made positive, modulo the partition count), so every instance — and any Kafka client — computes
 * the same answer. Pure; tested against kafkajs's own partitioner.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (the Java client's Utils.murmur2) over the key's UTF-8 bytes, as a signed 32-bit int. */
export function murmur2(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes (the Java code's switch with fall-through).
  const tail = length % 4;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionOf(scheduleId: string, partitions: number): number {
  return (murmur2(scheduleId) & 0x7fffffff) % partitions;
}
