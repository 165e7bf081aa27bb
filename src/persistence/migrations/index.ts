import { initialSchema } from './001-initial-schema';
import { baselineIndexes } from './002-baseline-indexes';
import { chargesAndOutbox } from './003-charges-and-outbox';
import { holdIdempotency } from './004-hold-idempotency';
import { rowLength } from './005-row-length';
import { onSaleAndQueueDraws } from './006-on-sale-and-queue-draws';
import { partitionOwners } from './007-partition-owners';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** In order; a migration, once released, is never edited: add a new one. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: initialSchema },
  { version: 2, name: 'baseline indexes', sql: baselineIndexes },
  { version: 3, name: 'charges and outbox', sql: chargesAndOutbox },
  { version: 4, name: 'hold idempotency', sql: holdIdempotency },
  { version: 5, name: 'row length', sql: rowLength },
  { version: 6, name: 'on-sale time and queue draws', sql: onSaleAndQueueDraws },
  { version: 7, name: 'partition owners (scale-out)', sql: partitionOwners },
];
