export interface AdmissionLoop {
  /** Idempotent. */
  start(): void;
  /** Stops ticking and waits for a sweep in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `sweep` every `intervalMs`, never two at once (a slow sweep makes the
 * next ticks skip rather than pile up). The timer is unref'd so it never keeps
 * the process alive, and failures are reported, not thrown.
 */
export function createAdmissionLoop(
  sweep: () => Promise<unknown>,
  intervalMs: number,
  onError: (error: unknown) => void,
): AdmissionLoop {
  let timer: NodeJS.Timeout | null = null;
  let sweepInFlight: Promise<void> | null = null;

  const tick = (): void => {
    if (sweepInFlight) return;
    sweepInFlight = sweep()
      .then(
        () => undefined,
        (error: unknown) => reportSafely(onError, error),
      )
      .finally(() => {
        sweepInFlight = null;
      });
  };

  return {
    start() {
      if (timer) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) {
        clearInterval(timer);
        timer = null;
      }
      if (sweepInFlight) await sweepInFlight;
    },
  };
}

function reportSafely(onError: (error: unknown) => void, error: unknown): void {
  try {
    onError(error);
  } catch {
    // A failing error reporter must not turn into an unhandled rejection.
  }
}
