/** Request input made safe before validation: ids in one spelling, no U+0000 in text. */
import { UUID_PATTERN } from './validation';

/**
 * Ids are case-insensitive on input (RFC 9562) but everything behind the HTTP layer compares them
 * as strings: the actor engine ran one actor per spelling of a schedule id (any GET could spawn
 * more; their journal commits collided: 503), a user id in capitals got NOT_OWNER on its own
 * reservation and a second token in the same line. So the ids in the path and the `…Id` fields of
 * a body are written in lower case before anything reads them, as the server writes them.
 */
export function lowerCaseIds(values: unknown, isId: (key: string) => boolean): void {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return;
  const record = values as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (isId(key) && typeof value === 'string' && UUID_PATTERN.test(value)) record[key] = value.toLowerCase();
  }
}

/** Whether any string in a parsed JSON body holds U+0000 (iteratively: bodies may nest deeply). */
export function holdsNul(body: unknown): boolean {
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item); // not push(...value): a huge array overflows the stack
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) pending.push(key, item);
    }
  }
  return false;
}
