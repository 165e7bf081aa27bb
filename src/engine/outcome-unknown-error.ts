/**
 * The engine cannot know whether a command was applied: its commit was cut off mid-flight (the
 * link to PostgreSQL dropped or went silent after the statement was sent). Maps to 503
 * OUTCOME_UNKNOWN: the client retries with the same Idempotency-Key to learn the truth, while the
 * actor drops its memory and reloads from the journal.
 */
export class EngineOutcomeUnknownError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
