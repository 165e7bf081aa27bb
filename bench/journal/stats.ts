/** Latency percentiles over recorded samples (milliseconds). */
export interface Percentiles {
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const sum = sorted.reduce((total, value) => total + value, 0);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    avg: round(sorted.length === 0 ? 0 : sum / sorted.length),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

export function machine() {
  const os = require('node:os') as typeof import('node:os');
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version };
}
