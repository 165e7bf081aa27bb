/**
 * `call()`'s result, or a rejection once `ms` have passed without one: for reads whose caller
 * must answer in time whatever a store does (readiness probes, scrapes, the ops page). The call
 * itself is not cancelled; its own I/O timeouts (pool, Redis) end it later.
 */
export async function within<T>(ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([call(), late]);
  } finally {
    clearTimeout(timer);
  }
}
