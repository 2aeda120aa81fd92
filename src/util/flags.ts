/**
 * Command-line flags for scripts and tutorials: declared once with their defaults and help, parsed
 * strictly (`--name value` and `--name=value`; unknown flags and bad values refused with a clear
 * message), with `--help` printing the usage. Node's util.parseArgs would do the splitting, but not
 * the typing, ranges and usage text every tutorial needs, and it is not in browsers.
 */
import { ValueError } from '../errors.js';

/** One flag: its type, default and a line of help. */
export type FlagSpec =
  | { type: 'number'; default: number; help: string; integer?: boolean; min?: number; max?: number }
  | { type: 'string'; default: string; help: string; choices?: readonly string[] }
  | { type: 'boolean'; default: boolean; help: string }
  | { type: 'optional-string'; default?: undefined; help: string };

/** The value a flag of spec `S` parses to. */
export type FlagValue<S extends FlagSpec> = S extends { type: 'number' } ? number : S extends { type: 'boolean' } ? boolean : S extends { type: 'optional-string' } ? string | undefined : string;

/** Parsed flags, typed by their specs. */
export type Flags<T extends Record<string, FlagSpec>> = { [K in keyof T]: FlagValue<T[K]> };

/** Thrown by {@link parseFlags} for a bad command line; `usage` is the text to show. */
export class FlagError extends ValueError {
  override name = 'FlagError';
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The usage text of a script with these flags. */
export function usage<T extends Record<string, FlagSpec>>(command: string, specs: T, about = ''): string {
  const lines = Object.entries(specs).map(([name, s]) => {
    const arg = s.type === 'boolean' ? '' : s.type === 'number' ? ' N' : ' TEXT';
    const dflt = s.type === 'optional-string' ? '' : s.type === 'boolean' ? '' : ` (default ${String(s.default)})`;
    return `  --${kebab(name)}${arg}`.padEnd(26) + `${s.help}${dflt}`;
  });
  return [`usage: ${command} [flags]`, ...(about ? ['', about] : []), '', 'flags:', ...lines, '  --help'.padEnd(26) + 'print this and exit'].join('\n');
}

/**
 * Parses `argv` against `specs`. Returns the values (defaults where a flag is absent), or
 * `undefined` when `--help` was asked for (the caller prints {@link usage} and exits).
 *
 * @example
 * ```ts
 * const spec = { epochs: { type: 'number', default: 20, integer: true, min: 1, help: 'passes over the data' } } as const;
 * const flags = sy.utils.parseFlags(spec, ['--epochs=3']); // { epochs: 3 }
 * ```
 */
export function parseFlags<T extends Record<string, FlagSpec>>(specs: T, argv: readonly string[], command = 'script'): Flags<T> | undefined {
  const text = usage(command, specs);
  const byFlag = new Map(Object.keys(specs).map((k) => [`--${kebab(k)}`, k]));
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(specs)) out[k] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return undefined;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = byFlag.get(flag);
    if (!name) throw new FlagError(`unknown flag '${flag}' (see --help)`, text);
    const spec = specs[name]!;
    if (spec.type === 'boolean') {
      const v = eq > 0 ? arg.slice(eq + 1) : 'true';
      if (v !== 'true' && v !== 'false') throw new FlagError(`${flag} takes true or false, got '${v}'`, text);
      out[name] = v === 'true';
      continue;
    }
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) throw new FlagError(`${flag} needs a value`, text);
    if (spec.type === 'number') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new FlagError(`${flag} takes a number, got '${raw}'`, text);
      if (spec.integer && !Number.isInteger(v)) throw new FlagError(`${flag} takes a whole number, got '${raw}'`, text);
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
        throw new FlagError(`${flag} must be in [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}], got ${v}`, text);
      }
      out[name] = v;
    } else {
      if (spec.type === 'string' && spec.choices && !spec.choices.includes(raw)) {
        throw new FlagError(`${flag} takes one of ${spec.choices.join(', ')}, got '${raw}'`, text);
      }
      out[name] = raw;
    }
  }
  return out as Flags<T>;
}

/**
 * For a script's entry point: parses `process.argv`, prints the usage and exits 0 on `--help`,
 * prints the problem and the usage and exits 2 on a bad flag.
 */
export function flagsOrExit<T extends Record<string, FlagSpec>>(specs: T, command: string, about = ''): Flags<T> {
  const argv = typeof process === 'undefined' ? [] : process.argv.slice(2);
  try {
    const flags = parseFlags(specs, argv, command);
    if (flags) return flags;
    console.log(usage(command, specs, about));
    process.exit(0);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(`${e.message}\n\n${e.usage}`);
    process.exit(2);
  }
}
