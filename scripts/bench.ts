/**
 * `npm run bench`: speed of the training engine (see lib/bench/args.ts for the flags; the work is
 * in lib/bench/run.ts).
 */
import { runCli } from '@/lib/cli/args';
import { parseBenchArgs, USAGE } from '@/lib/bench/args';
import { toJson, toTable } from '@/lib/bench/report';
import { runBench } from '@/lib/bench/run';

void runCli({ name: 'bench', usage: USAGE }, async (argv) => {
  const args = parseBenchArgs(argv);
  const result = await runBench({ ...args, log: (line) => process.stderr.write(`[bench] ${line}\n`) });
  process.stdout.write((args.json ? toJson(result) : toTable(result)) + '\n');
  return 0;
}).then((code) => process.exit(code));
