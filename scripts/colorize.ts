/**
 * `npm run colorize -- <files or folders> --out <dir> [--model <dir>]`: a thin shell over lib/infer
 * (see lib/cli/infer-command.ts for the flags).
 */
import { runCli } from '@/lib/cli/args';
import { runInferCommand, USAGE } from '@/lib/cli/infer-command';
import { cancelOnSignals } from '@/lib/cli/signals';

// Ctrl-C and SIGTERM both stop after the current tile: exit 130 / 143, no half-written PNG.
const signal = cancelOnSignals();

void runCli({ name: 'colorize', usage: USAGE.colorize }, (argv) => runInferCommand('colorize', argv, { signal })).then(
  (code) => process.exit(code),
);
