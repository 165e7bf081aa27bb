import { initialSchema } from './001-initial-schema';
import { baselineIndexes } from './002-baseline-indexes';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** In order; a migration, once released, is never edited: add a new one. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: initialSchema },
  { version: 2, name: 'baseline indexes', sql: baselineIndexes },
];
