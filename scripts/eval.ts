/**
 * npm run eval: quality and speed of our models against the published protocol and UpscalerJS.
 * See `lib/eval/args.ts` for the flags; the work is in `lib/eval/run.ts`.
 */
import { USAGE, UsageError, parseEvalArgs } from '@/lib/eval/args';
import { DataError } from '@/lib/eval/data';
import { toJson, toMarkdown } from '@/lib/eval/report';
import { runEvaluation } from '@/lib/eval/run';

async function main(): Promise<number> {
  let args;
  try {
    args = parseEvalArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`eval: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  const log = (line: string) => console.error(`[eval] ${line}`);
  try {
    const result = await runEvaluation(args, log);
    console.log(args.json ? toJson(result, args.verbose) : toMarkdown(result, args.verbose));
    return 0;
  } catch (error) {
    if (error instanceof DataError) {
      console.error(`eval: ${error.message}`);
      return 2;
    }
    console.error(`eval failed: ${(error as Error).stack ?? error}`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
