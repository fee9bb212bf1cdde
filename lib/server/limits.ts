/**
 * The app's limits, read from the environment once per process. Every value has a sane default;
 * a value that is set but malformed is a configuration error and fails loudly at start-up.
 */
import { z } from 'zod';
import { formatBytes } from '@/lib/ui/format';

export { formatBytes };

export interface ServerLimits {
  /** Largest accepted upload, in bytes (the encoded file). */
  maxUploadBytes: number;
  /** Largest decoded input, in pixels (passed to sharp's `limitInputPixels`). */
  maxInputPixels: number;
  /** Largest upscaled output, in pixels. */
  maxOutputPixels: number;
  /** Requests allowed to wait behind the one running; beyond that the server answers 503. */
  maxQueueLength: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxUploadBytes: 20 * 1024 * 1024,
  maxInputPixels: 16_000_000,
  maxOutputPixels: 16_000_000,
  maxQueueLength: 8,
};

const ENV_NAMES: Record<keyof ServerLimits, string> = {
  maxUploadBytes: 'MAX_UPLOAD_BYTES',
  maxInputPixels: 'MAX_INPUT_PIXELS',
  maxOutputPixels: 'MAX_OUTPUT_PIXELS',
  maxQueueLength: 'MAX_QUEUE_LENGTH',
};

/** Units of a byte count (decimal k/M/G and binary KiB/MiB/GiB). */
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Units of a pixel count: `16MP`, or a bare SI prefix (`16M`). */
const PIXEL_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  mp: 1e6,
  g: 1e9,
};

/**
 * `20000000`, `20_000_000`, `20MB`, `20MiB` (bytes) or `16MP` (pixels), case-insensitive -> a number.
 * A unit of the other kind is refused: `MAX_UPLOAD_BYTES=16MP` is a mistake, not 16 million bytes.
 */
function sizeSchema(kind: 'bytes' | 'pixels') {
  const units = kind === 'bytes' ? BYTE_UNITS : PIXEL_UNITS;
  const example = kind === 'bytes' ? 'such as 20MB or 20MiB' : 'such as 16MP';
  return z
    .string()
    .trim()
    .regex(/^\d[\d_]*(\.\d+)?\s*[a-z]*$/i, `expected a number, optionally with a unit ${example}`)
    .transform((text, ctx) => {
      const match = /^([\d_.]+)\s*([a-z]*)$/i.exec(text);
      const unit = match?.[2] ?? '';
      const factor = units[unit.toLowerCase()];
      if (!match || factor === undefined) {
        const otherKind = kind === 'bytes' ? PIXEL_UNITS : BYTE_UNITS;
        ctx.addIssue({
          code: 'custom',
          message:
            otherKind[unit.toLowerCase()] !== undefined
              ? `${unit} is a unit of ${kind === 'bytes' ? 'pixels' : 'bytes'}, not ${kind} (use a unit ${example})`
              : `unknown unit in "${text}" (use a unit ${example})`,
        });
        return z.NEVER;
      }
      return Math.round(Number(match[1]!.replaceAll('_', '')) * factor);
    })
    .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER));
}

const SCHEMAS = {
  maxUploadBytes: sizeSchema('bytes'),
  maxInputPixels: sizeSchema('pixels'),
  maxOutputPixels: sizeSchema('pixels'),
} as const;

const queueSchema = z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(0).max(1000));

/**
 * Reads the limits from `env` (default `process.env`); unset or empty variables take the defaults.
 * @throws Error naming the variable when a value is malformed.
 */
export function readLimits(env: Record<string, string | undefined> = process.env): ServerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(ENV_NAMES) as (keyof ServerLimits)[]) {
    const name = ENV_NAMES[key];
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = (key === 'maxQueueLength' ? queueSchema : SCHEMAS[key]).safeParse(raw);
    if (!parsed.success) {
      throw new Error(`${name}="${raw}" is not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    limits[key] = parsed.data;
  }
  return limits;
}

let cached: ServerLimits | undefined;
/** The process's limits (read once). */
export function serverLimits(): ServerLimits {
  cached ??= readLimits();
  return cached;
}

/**
 * The start-up check: a malformed limit stops the process with a message naming the variable.
 * Thrown from Next's `register()` it would only be logged, and the server would then answer every
 * request with a bare 500; a misconfigured server should not come up at all.
 *
 * @param exit how to stop (default `process.exit`); called with 1.
 * @returns the limits when they are valid.
 */
export function limitsOrExit(
  env: Record<string, string | undefined> = process.env,
  exit: (code: number) => void = (code) => process.exit(code),
): ServerLimits | undefined {
  try {
    return readLimits(env);
  } catch (error) {
    console.error(`[startup] ${error instanceof Error ? error.message : String(error)}; fix it and start the server again.`);
    exit(1);
    return undefined;
  }
}

/** 16000000 -> "16 megapixels". */
export function formatPixels(pixels: number): string {
  return pixels >= 1e6 ? `${+(pixels / 1e6).toFixed(1)} megapixels` : `${pixels} pixels`;
}
