/**
 * Stopping a CLI batch cleanly on SIGINT (Ctrl-C) and SIGTERM (`kill`, a supervisor, `timeout`):
 * the batch is aborted after the current tile, so no half-written result is left behind.
 */

/** The signals that cancel a run, and the exit code each gives: 128 + its number, as a shell reports it. */
export const CANCEL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type CancelSignal = keyof typeof CANCEL_EXIT_CODES;

/** Where the signals come from (`process`, or a stand-in in tests). */
export interface SignalSource {
  on(event: CancelSignal, listener: () => void): unknown;
}

export interface CancelOnSignalsOptions {
  /** Default `process`. */
  source?: SignalSource;
  /** Called with the exit code to quit at once on a repeated signal; default `process.exit`. */
  exit?: (code: number) => void;
  /** Repeats sooner than this after the first signal are ignored (default 1500 ms). */
  repeatMs?: number;
  now?: () => number;
}

/**
 * An AbortSignal aborted by the first SIGINT or SIGTERM, with the signal's name as its reason.
 * One Ctrl-C can arrive twice (from the terminal and relayed by npm), so a repeat within
 * `repeatMs` is ignored; a later one quits at once with that signal's exit code.
 */
export function cancelOnSignals(options: CancelOnSignalsOptions = {}): AbortSignal {
  const source = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const repeatMs = options.repeatMs ?? 1500;
  const now = options.now ?? Date.now;
  const controller = new AbortController();
  let firstAt = 0;
  for (const name of Object.keys(CANCEL_EXIT_CODES) as CancelSignal[]) {
    source.on(name, () => {
      if (!controller.signal.aborted) {
        firstAt = now();
        controller.abort(name);
      } else if (now() - firstAt > repeatMs) {
        exit(CANCEL_EXIT_CODES[name]);
      }
    });
  }
  return controller.signal;
}

/** The exit code of a run cancelled through `signal`: 143 after SIGTERM, else 130 (Ctrl-C). */
export function cancelExitCode(signal?: AbortSignal): number {
  return signal?.reason === 'SIGTERM' ? CANCEL_EXIT_CODES.SIGTERM : CANCEL_EXIT_CODES.SIGINT;
}
