/**
 * `npm run colorize -- <files or folders> --out <dir> [--model <dir>]`: a thin shell over lib/infer
 * (see lib/cli/infer-command.ts for the flags).
 */
import { runCli } from '@/lib/cli/args';
import { runInferCommand, USAGE } from '@/lib/cli/infer-command';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

void runCli({ name: 'colorize', usage: USAGE.colorize }, (argv) => runInferCommand('colorize', argv, { signal: controller.signal })).then(
  (code) => process.exit(code),
);
