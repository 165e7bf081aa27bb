/** What every check of the soak reports. */
export interface InvariantResult {
  /** Group: seats, money, outbox, answers, server, memory. */
  group: string;
  name: string;
  ok: boolean;
  detail: string;
  /** Could not be decided (e.g. too short a window): reported, does not fail the run. */
  inconclusive?: boolean;
  /** Up to a few offending rows or answers, for the report. */
  examples?: unknown[];
}

export const check = (group: string, name: string, ok: boolean, detail: string, examples?: unknown[]): InvariantResult => ({
  group,
  name,
  ok,
  detail,
  ...(examples && examples.length > 0 ? { examples: examples.slice(0, 5) } : {}),
});
