/**
 * npm run eval: quality and speed of our models: super-resolution against the published protocol
 * and UpscalerJS, colorize and paired (A->B) models against their targets and a baseline.
 * A thin shell: the flags are in `lib/eval/args.ts`, the command in `lib/eval/command.ts`, the
 * work in `lib/eval/run.ts`.
 */
import { runCli } from '@/lib/cli/args';
import { USAGE } from '@/lib/eval/args';
import { runEvalCommand } from '@/lib/eval/command';

// runCli sets process.exitCode; the process ends when the report has been written.
void runCli({ name: 'eval', usage: USAGE }, (argv) => runEvalCommand(argv));
