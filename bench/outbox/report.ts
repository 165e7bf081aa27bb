/**
 * What every outbox and gateway benchmark prints and saves: the machine it ran on (CPU model,
 * cores, Node, kernel, memory, PostgreSQL and its durability setting), a markdown table of the
 * results, and the whole result as JSON (`--json <file>`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { Client } from 'pg';

export interface Machine {
  cpuModel: string;
  cores: number;
  node: string;
  kernel: string;
  memoryGiB: number;
  postgres: string;
  synchronousCommit: string;
}

export async function describeMachine(databaseServerUrl: string): Promise<Machine> {
  const client = new Client({ connectionString: `${databaseServerUrl}/postgres` });
  await client.connect();
  try {
    const version = await client.query<{ v: string }>('SHOW server_version');
    const sync = await client.query<{ v: string }>('SHOW synchronous_commit');
    return {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      node: process.version,
      kernel: release(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      postgres: Object.values(version.rows[0] ?? {})[0] ?? 'unknown',
      synchronousCommit: Object.values(sync.rows[0] ?? {})[0] ?? 'unknown',
    };
  } finally {
    await client.end();
  }
}

export function machineLine(machine: Machine): string {
  return `machine: ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, PostgreSQL ${machine.postgres} (synchronous_commit = ${machine.synchronousCommit})`;
}

export type Cell = string | number | undefined;

/** A markdown table; numbers right-aligned and grouped (1,234.5). */
export function markdownTable(header: string[], rows: Cell[][]): string {
  const format = (cell: Cell) =>
    cell === undefined ? '' : typeof cell === 'number' ? cell.toLocaleString('en-US', { maximumFractionDigits: 2 }) : cell;
  const align = header.map((_, i) => (rows.some((row) => typeof row[i] === 'number') ? '---:' : '---'));
  return [
    `| ${header.join(' | ')} |`,
    `|${align.join('|')}|`,
    ...rows.map((row) => `| ${header.map((_, i) => format(row[i])).join(' | ')} |`),
  ].join('\n');
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
