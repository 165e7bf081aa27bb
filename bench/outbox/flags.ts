/**
 * Command-line flags of the outbox and gateway benchmarks: `--name value` pairs with typed
 * defaults, `--help` printing every flag with its default. Strict (node:util parseArgs): a
 * misspelt flag stops the run instead of silently measuring the defaults.
 */
import { parseArgs } from 'node:util';

type FlagSpec = { default: number; help: string } | { default: string; help: string } | { default: boolean; help: string };
export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues<S extends FlagSpecs> = { [K in keyof S]: S[K]['default'] };

export class UsageError extends Error {}

export function parseFlags<S extends FlagSpecs>(usage: string, specs: S, argv = process.argv.slice(2)): FlagValues<S> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: typeof spec.default === 'boolean' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help(usage, specs)}`);
  }
  if (values['help']) {
    console.log(help(usage, specs));
    process.exit(0);
  }
  const result: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = values[name];
    if (raw === undefined) result[name] = spec.default;
    else if (typeof spec.default === 'number') {
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`--${name} must be a number >= 0 (got ${JSON.stringify(raw)})`);
      result[name] = value;
    } else result[name] = raw;
  }
  return result as FlagValues<S>;
}

function help(usage: string, specs: FlagSpecs): string {
  const lines = Object.entries(specs).map(([name, spec]) => `  --${name.padEnd(20)} ${spec.help} (default: ${JSON.stringify(spec.default)})`);
  return `${usage}\n\nflags:\n${lines.join('\n')}\n  --help                 this text`;
}
