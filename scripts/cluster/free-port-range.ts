/**
 * A run of consecutive free TCP ports on 127.0.0.1 (the front on P, instance i on P+i). The OS
 * hands out single free ports, not runs, so this probes random bases in the unprivileged range
 * below Linux's ephemeral ports (32768+), where outgoing connections will not take them meanwhile.
 */
import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePortRange(count: number, { low = 20_000, high = 32_000, attempts = 50 } = {}): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await isFree(port);
    if (free) return base;
  }
  throw new Error(`no run of ${count} free ports found in ${low}..${high}`);
}
