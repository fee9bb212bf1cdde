/**
 * `npm run eval` minus the process: flags, the evaluation, the report on stdout and the exit code.
 * scripts/eval.ts runs it under {@link runCli}, which turns a usage error (a bad flag, a wrong or
 * broken `--model`) into one line + the usage and exit code 2, and any other error into one line
 * (the stack only with DEBUG) and exit code 1.
 */
import { parseEvalArgs, USAGE } from './args';
import { DataError } from './data';
import { toJson, toMarkdown } from './report';
import { runEvaluation } from './run';

export interface EvalCommandIO {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/**
 * Parses `argv` (without node and the script), evaluates, prints the table (or JSON) on stdout
 * and progress on stderr.
 *
 * @returns the exit code: 0 done (files that cannot be scored are skipped and named in the
 *   report), 2 for a problem with `--data` (missing, no images, none that can be scored),
 *   printed as one `eval: ...` line.
 * @throws UsageError for bad flags or an unusable `--model` (the caller's runCli prints it, exit 2).
 */
export async function runEvalCommand(argv: readonly string[], io: EvalCommandIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const args = parseEvalArgs([...argv]);
  if (args === 'help') {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = (line: string) => stderr.write(`[eval] ${line}\n`);
  try {
    const result = await runEvaluation(args, log);
    stdout.write(`${args.json ? toJson(result, args.verbose) : toMarkdown(result, args.verbose)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    stderr.write(`eval: ${error.message}\n`);
    return 2;
  }
}
