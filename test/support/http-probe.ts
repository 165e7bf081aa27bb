/**
 * One HTTP request to the real server, recorded whatever happens: status, problem `code`, whether
 * the answer is application/problem+json, its time, and — when no answer came — why (the
 * connection refused, reset, or our own timeout: a hang). For fault tests that must judge every
 * answer, including the ones a dying or degraded server gives.
 */
import { CLIENT_TIMEOUT_MS } from './hold-load';

export interface Probe {
  method: string;
  path: string;
  /** 0 when no HTTP answer came (see `error`). */
  status: number;
  code?: string;
  problemJson: boolean;
  retryAfter?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by the tests
  body?: any;
  /** Why no answer came: ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, TimeoutError, … */
  error?: string;
  ms: number;
  /** Epoch ms when the request was sent. */
  startedAt: number;
}

/** The most specific reason a fetch failed: the errno/undici code of its cause, else its name. */
export function failureReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const { code, name, cause } = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError' || name === 'AbortError') return name;
    current = cause;
  }
  return (error as Error)?.name ?? String(error);
}

export async function probe(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs: number = CLIENT_TIMEOUT_MS,
): Promise<Probe> {
  const startedAt = Date.now();
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    const retryAfter = response.headers.get('retry-after');
    return {
      method,
      path,
      status: response.status,
      code: (parsed as { code?: string } | undefined)?.code,
      problemJson: (response.headers.get('content-type') ?? '').startsWith('application/problem+json'),
      ...(retryAfter === null ? {} : { retryAfter }),
      body: parsed,
      ms: performance.now() - started,
      startedAt,
    };
  } catch (error) {
    return { method, path, status: 0, problemJson: false, error: failureReason(error), ms: performance.now() - started, startedAt };
  }
}

/** The p-th percentile (0..100) of `values`, nearest rank; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Counts per label, for the log line of a fault test. */
export function tally<T>(items: T[], label: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[label(item)] = (counts[label(item)] ?? 0) + 1;
  return counts;
}

export const describeProbe = (p: Probe): string =>
  `${p.method} ${p.path.replace(/[0-9a-f-]{36}/g, ':id').replace(/\?.*$/, '')} → ${p.status === 0 ? p.error : `${p.status}${p.code ? ` ${p.code}` : ''}`}`;

/** 503 problem+json: SERVICE_UNAVAILABLE (nothing applied) or OUTCOME_UNKNOWN (a write timed out). */
export const isRedisDownAnswer = (p: Probe): boolean =>
  p.status === 503 && (p.code === 'SERVICE_UNAVAILABLE' || p.code === 'OUTCOME_UNKNOWN') && p.problemJson;
