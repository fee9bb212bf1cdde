/**
 * Command-line flags for the repo's scripts: `node:util` `parseArgs` (strict: unknown flags fail)
 * then a zod schema for values, with one clear message per mistake. {@link runCli} turns a
 * {@link UsageError} into that message + the usage on stderr and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';

/** A wrong flag or value: the message is shown with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

export interface CliSpec<Schema extends z.ZodType> {
  /** Flags as `parseArgs` takes them (`{ out: { type: 'string' }, json: { type: 'boolean' } }`). */
  options: FlagOptions;
  /**
   * Validates `{ ...flags, positionals }`: flag values are strings (or booleans for boolean flags,
   * arrays with `multiple`), absent flags are undefined. Messages should name the flag.
   */
  schema: Schema;
  /** Whether arguments that are not flags are accepted (default true). */
  allowPositionals?: boolean;
}

/** `--help` or `-h` anywhere before a `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** One line per issue, each naming the flag when the schema did not already. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path[0];
      const flag = key === undefined ? '' : key === 'positionals' ? 'arguments' : `--${String(key)}`;
      return flag && !issue.message.includes(flag) ? `${flag}: ${issue.message}` : issue.message;
    })
    .join('\n');
}

function parseArgsMessage(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(message)?.[1];
    return flag ? `unknown flag ${flag}` : message.split('.')[0]!;
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']+)'/.exec(message)?.[1];
    return arg ? `unexpected argument "${arg}"` : message;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '--out <value>' argument missing" / "Option '--json' does not take an argument"
    const flag = /'(--?[\w-]+)/.exec(message)?.[1];
    if (flag && /missing/i.test(message)) return `${flag} needs a value`;
    if (flag && /does not take/i.test(message)) return `${flag} takes no value`;
  }
  return message;
}

/** `value` as one POSIX shell word, for commands printed to be pasted: quoted only when it needs it. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The part of a `parseArgs({ tokens: true })` token that {@link rejectRepeatedFlags} reads. */
export interface FlagToken {
  kind: string;
  name?: string;
  rawName?: string;
  value?: string | undefined;
}

/**
 * Refuses a flag given more than once (`--out a --out b` would otherwise silently take `b`),
 * except the flags declared `multiple: true` (documented as repeatable, e.g. eval's `--model`).
 *
 * @param tokens `parseArgs`'s tokens (parse with `tokens: true`).
 * @throws UsageError naming the flag and its values.
 */
export function rejectRepeatedFlags(tokens: readonly FlagToken[], options: FlagOptions): void {
  const seen = new Map<string, (string | undefined)[]>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined || options[token.name]?.multiple) continue;
    const values = seen.get(token.name) ?? [];
    values.push(token.value);
    seen.set(token.name, values);
    if (values.length === 2) {
      const given = values.every((v) => v !== undefined) ? ` (${values.join(', ')})` : '';
      throw new UsageError(`--${token.name} is given twice${given}; give it once`);
    }
  }
}

/**
 * Parses `argv` (without the node and script paths) against `spec`. A flag may be given once,
 * unless its option says `multiple: true`.
 *
 * @returns the schema's output.
 * @throws UsageError with one clear message (unknown flag, missing value, repeated flag, invalid value...).
 */
export function parseCli<Schema extends z.ZodType>(argv: readonly string[], spec: CliSpec<Schema>): z.output<Schema> {
  let parsed: { values: Record<string, unknown>; positionals: string[]; tokens: FlagToken[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: spec.options,
      strict: true,
      allowPositionals: spec.allowPositionals ?? true,
      tokens: true,
    }) as { values: Record<string, unknown>; positionals: string[]; tokens: FlagToken[] };
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  rejectRepeatedFlags(parsed.tokens, spec.options);
  const result = spec.schema.safeParse({ ...parsed.values, positionals: parsed.positionals });
  if (!result.success) throw new UsageError(formatIssues(result.error));
  return result.data;
}

/**
 * A decimal number as typed ("3", "0.5", "2e-4", "-1"). `Number()` alone would also take "" and " "
 * (0), "0x10" (16), "0b1" and "Infinity": an empty `--lambda-l1 ''` would silently train without L1.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** The number `text` spells in decimal notation (surrounding spaces allowed), else NaN. */
export function parseDecimal(text: string): number {
  return DECIMAL.test(text.trim()) ? Number(text) : NaN;
}

/** What a numeric flag accepts. */
export interface NumberRule {
  int?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
}

/**
 * A numeric value from the command line (a {@link DECIMAL} string) or from code (a number),
 * checked against `rule`. The messages start with `label` when given (`--steps must be ...`), else
 * with "must be" for a caller that names the flag itself.
 */
export function numberSchema(rule: NumberRule = {}, label?: string) {
  const prefix = label ? `${label} ` : '';
  return z.union([z.number(), z.string()], { message: `${prefix}needs a value`.trim() }).transform((value, ctx) => {
    const n = typeof value === 'number' ? value : parseDecimal(value);
    const { int = false, min, above, max } = rule;
    const problem = !Number.isFinite(n)
      ? `must be ${int ? 'a whole number' : 'a number'}${typeof value === 'string' ? ` (got "${value}")` : ''}`
      : int && !Number.isInteger(n)
        ? `must be a whole number (got ${n})`
        : min !== undefined && n < min
          ? `must be at least ${min}`
          : above !== undefined && n <= above
            ? `must be above ${above}`
            : max !== undefined && n > max
              ? `must be at most ${max}`
              : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: prefix + problem });
      return z.NEVER;
    }
    return n;
  });
}

/** zod helpers for flag values, which arrive as strings. */
export const flag = {
  /** A decimal number within `rule` (see {@link numberSchema}). */
  number: (name: string, rule: NumberRule = {}) => numberSchema(rule, `--${name}`),
  /** A whole number >= `min`. */
  int: (name: string, min = 1) => numberSchema({ int: true, min }, `--${name}`),
  /** One of `choices`. */
  choice: <const T extends readonly [string, ...string[]]>(name: string, choices: T) =>
    z.enum(choices, { message: `--${name} must be ${choices.slice(0, -1).join(', ')}${choices.length > 1 ? ' or ' : ''}${choices.at(-1)}` }),
  /** A non-empty string (a path, a name). */
  text: (name: string) => z.string({ message: `--${name} needs a value` }).min(1, `--${name} must not be empty`),
  /** A model or run folder name: it becomes one path segment under the models or runs folder. */
  modelName: (name: string) =>
    z
      .string({ message: `--${name} needs a value` })
      // Aborts: an empty name would otherwise also get both messages below.
      .min(1, { message: `--${name} must not be empty`, abort: true })
      .regex(/^[\w.-]+$/, `--${name} may contain letters, digits, "_", "." and "-" only`)
      // "." and ".." pass the character rule but would name the models folder itself or its parent.
      .refine((value) => /[^.]/.test(value), `--${name} needs a letter, digit, "_" or "-"`),
};

/**
 * What a script prints for an error it did not expect: the message, or the stack trace when the
 * `DEBUG` environment variable is set (README, Environment variables).
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return process.env.DEBUG ? (error.stack ?? error.message) : error.message;
}

export interface RunCliOptions {
  /** Script name used as the message prefix, e.g. `upscale`. */
  name: string;
  usage: string;
  argv?: readonly string[];
  stderr?: NodeJS.WritableStream;
  stdout?: NodeJS.WritableStream;
}

/**
 * Runs a script's `main(argv)` and sets `process.exitCode`: `--help` prints the usage (0); a
 * {@link UsageError} prints `name: message` and the usage (2); any other error prints its message
 * (1, with the stack when DEBUG is set); otherwise main's own code.
 */
export async function runCli(options: RunCliOptions, main: (argv: readonly string[]) => Promise<number>): Promise<number> {
  const argv = options.argv ?? process.argv.slice(2);
  const stderr = options.stderr ?? process.stderr;
  let code: number;
  if (wantsHelp(argv)) {
    (options.stdout ?? process.stdout).write(options.usage.trimEnd() + '\n');
    code = 0;
  } else {
    try {
      code = await main(argv);
    } catch (error) {
      if (error instanceof UsageError) {
        stderr.write(`${options.name}: ${error.message}\n\n${options.usage.trimEnd()}\n`);
        code = 2;
      } else {
        stderr.write(`${options.name}: ${errorText(error)}\n`);
        code = 1;
      }
    }
  }
  process.exitCode = code;
  return code;
}
