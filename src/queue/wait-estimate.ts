export interface WaitEstimateInput {
  /** 1-based place in line; 0 when ACTIVE. */
  position: number;
  maxActive: number;
  activeTtlSeconds: number;
  /** Waiting tokens admitted for this concert within the last 60 seconds. */
  admissionsLastMinute: number;
}

const ADMISSION_RATE_WINDOW_SECONDS = 60;

/**
 * Estimated seconds until a WAITING token is admitted (always an integer ≥ 0):
 *
 *   capacityEstimate = ceil(position / maxActive * activeTtlSeconds)
 *     — every slot frees at the latest after activeTtlSeconds, so this is
 *       (about) the worst case: nobody pays early.
 *   observedEstimate = ceil(position * 60 / admissionsLastMinute)
 *     — the line has been moving at admissionsLastMinute per minute lately
 *       (only tokens that actually waited count, so a burst of walk-in
 *       admissions does not inflate it).
 *
 *   estimate = 0                                          if position = 0
 *            = capacityEstimate                           if no admissions in the last minute
 *            = min(observedEstimate, capacityEstimate)    otherwise
 *
 * The min keeps the estimate from exceeding the worst case while the rate
 * window is still filling (e.g. the first minute after the line forms).
 */
export function estimateWaitSeconds(input: WaitEstimateInput): number {
  const { position, maxActive, activeTtlSeconds, admissionsLastMinute } = input;
  if (position <= 0) return 0;
  const capacityEstimate = Math.ceil((position / maxActive) * activeTtlSeconds);
  if (admissionsLastMinute <= 0) return capacityEstimate;
  const observedEstimate = Math.ceil((position * ADMISSION_RATE_WINDOW_SECONDS) / admissionsLastMinute);
  return Math.min(observedEstimate, capacityEstimate);
}
