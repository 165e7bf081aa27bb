/**
 * Named statements: node-pg parses each once per connection and PostgreSQL can reuse its plan,
 * instead of parsing and planning the text on every call. The baselines' hot statements are
 * CTEs whose planning costs about as much as their execution, so this is part of giving them
 * the same care as the actor engine.
 */
import type { QueryConfig } from 'pg';

export function prepared(name: string, text: string): (values: unknown[]) => QueryConfig {
  const statementName = `ovation-baseline-${name}`;
  return (values) => ({ name: statementName, text, values });
}
