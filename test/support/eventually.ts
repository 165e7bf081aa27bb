/** Retries `check` until it stops throwing (or returns truthy), instead of sleeping a fixed time. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 15_000, intervalMs = 50 } = {},
): Promise<Exclude<T, false | undefined | null>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
      if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the clock is past `deadline` (an ISO time or epoch ms), e.g. a hold's expiresAt. */
export async function untilPast(deadline: string | number, marginMs = 50): Promise<void> {
  const at = typeof deadline === 'string' ? Date.parse(deadline) : deadline;
  const wait = at + marginMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
