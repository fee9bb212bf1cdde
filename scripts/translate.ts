/**
 * `npm run translate -- <files or folders> --out <dir> [--model <dir>]`: runs a paired (A->B) model;
 * a thin shell over lib/infer (see lib/cli/infer-command.ts for the flags).
 */
import { runCli } from '@/lib/cli/args';
import { runInferCommand, USAGE } from '@/lib/cli/infer-command';
import { cancelOnSignals } from '@/lib/cli/signals';

// Ctrl-C and SIGTERM both stop after the current window: exit 130 / 143, no half-written PNG.
const signal = cancelOnSignals();

void runCli({ name: 'translate', usage: USAGE.translate }, (argv) => runInferCommand('translate', argv, { signal })).then(
  (code) => process.exit(code),
);
