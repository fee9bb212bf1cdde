/**
 * The things the evaluation compares, behind one interface: the bicubic baseline, our exported
 * models (through the inference service) and the UpscalerJS ESRGAN peers (whole images).
 */
import { existsSync, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { decodeImage, encodePng } from '@/lib/image/decode';
import { UsageError } from '@/lib/cli/args';
import { createInferenceService, describeModelProblem } from '@/lib/infer/service';
import { severalPairedModels, type ModelSummary } from '@/lib/infer/types';
import { fileSystemIO } from '@/lib/model/io';
import { modelKindLabel, wrongModelKind } from '@/lib/model/metadata';
import type { BackendName } from '@/lib/tf/backend';
import { imresize } from './bicubic';
import { fromBytes, toBytes, type FloatImage } from './image';

/** An image-to-image method under test. `run` takes and returns [0, 1] HWC images (3 channels). */
export interface Method {
  /** Row label, e.g. `bicubic`, `ours (sr-x4)`, `esrgan-thick`. */
  name: string;
  /** What it is, for the report (package and version, model directory, parameter count). */
  detail: string;
  run(image: FloatImage): Promise<FloatImage>;
  dispose(): void;
  /** Our models: the folder it was loaded from (its metadata says how it was trained). */
  modelDir?: string;
}

// ---------------------------------------------------------------------------------------------
// Bicubic

/** MATLAB bicubic upscaling of 8-bit images (the tables' "Bicubic" row). */
export function bicubicMethod(scale: number): Method {
  return {
    name: 'bicubic',
    detail: `MATLAB imresize bicubic x${scale}`,
    run: async (lr) => imresize(lr, { scale, uint8: true }),
    dispose: () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// Running a layers model on a whole image

/**
 * Runs `model` on the whole of `image` (`[h, w, 3]`, [0, 1]) fed as pixel x `range` and returns its
 * output divided by `range` (unclipped): `[h * s, w * s, 3]` for a model that scales by s.
 */
export async function runWholeImage(model: tfl.LayersModel, image: FloatImage, range: number): Promise<FloatImage> {
  const output = tf.tidy(() => {
    const x = tf.mul(tf.tensor4d(image.data, [1, image.height, image.width, image.channels]), range);
    return tf.div(model.predict(x) as tf.Tensor4D, range) as tf.Tensor4D;
  });
  try {
    const [, height, width, channels] = output.shape;
    return { data: (await output.data()) as Float32Array, width, height, channels };
  } finally {
    output.dispose();
  }
}

function countParams(model: tfl.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

function formatParams(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M params` : `${(n / 1e3).toFixed(1)} k params`;
}

// ---------------------------------------------------------------------------------------------
// UpscalerJS ESRGAN peers

export const PEER_NAMES = ['slim', 'medium', 'thick'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/**
 * What each package's model definition says (read from its `dist/.../esrgan.js`): the RDN models
 * (slim, medium) take and give 0..255; the RRDN model (thick) takes and gives 0..1 and needs the
 * `MultiplyBeta` and `PixelShuffle{s}x` custom layers.
 */
const PEER_RANGES: Record<PeerName, number> = { slim: 255, medium: 255, thick: 1 };

function firstTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x) throw new Error('custom layer called without input');
  return x;
}

type LayerConfig = ConstructorParameters<typeof tfl.layers.Layer>[0] & Record<string, unknown>;

/** ESRGAN's residual scaling: output = input * beta (0.2). */
export class MultiplyBeta extends tfl.layers.Layer {
  static className = 'MultiplyBeta';
  private readonly beta: number;
  constructor(config: LayerConfig = {}) {
    super(config);
    this.beta = typeof config.beta === 'number' ? config.beta : 0.2;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(firstTensor(inputs), this.beta));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), beta: this.beta };
  }
}

/** UpscalerJS's `PixelShuffle{scale}x` layer: depth-to-space by `scale`. */
export function pixelShuffleClass(scale: number) {
  return class PixelShuffle extends tfl.layers.Layer {
    static className = `PixelShuffle${scale}x`;
    private readonly scale: number;
    constructor(config: LayerConfig = {}) {
      super(config);
      this.scale = typeof config.scale === 'number' ? config.scale : scale;
    }
    override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
      const grow = (d: number | null | undefined) => (d == null ? null : d * this.scale);
      const channels = shape[3] == null ? null : shape[3] / (this.scale * this.scale);
      return [shape[0] ?? null, grow(shape[1]), grow(shape[2]), channels];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.tidy(() => tf.depthToSpace(firstTensor(inputs) as tf.Tensor4D, this.scale, 'NHWC'));
    }
    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), scale: this.scale };
    }
  };
}

let customLayersRegistered = false;
/** Registers the ESRGAN-thick custom layers with tfjs serialization (idempotent). */
export function registerPeerLayers(): void {
  if (customLayersRegistered) return;
  tf.serialization.registerClass(MultiplyBeta);
  for (const scale of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffleClass(scale));
  customLayersRegistered = true;
}

/** The installed package folder of `pkg` (its `exports` hide `package.json` from `require.resolve`). */
async function packageRoot(pkg: string): Promise<{ dir: string; version: string }> {
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  let entry: string;
  try {
    entry = requireFromRoot.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed (it is a devDependency: run npm install).`);
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(await fs.readFile(manifest, 'utf8')) as { name?: string; version?: string };
    if (json.name === pkg) return { dir, version: json.version ?? '?' };
  }
  throw new Error(`Cannot find the package folder of ${pkg} above ${entry}`);
}

/** Loads `@upscalerjs/esrgan-<peer>` for `scale` from node_modules. */
export async function loadPeer(peer: PeerName, scale: number): Promise<Method> {
  const pkg = `@upscalerjs/esrgan-${peer}`;
  const { dir, version } = await packageRoot(pkg);
  const modelDir = path.join(dir, 'models', `x${scale}`);
  if (!existsSync(path.join(modelDir, 'model.json'))) throw new Error(`${pkg} has no x${scale} model in ${modelDir}`);
  registerPeerLayers();
  const model = await tfl.loadLayersModel(fileSystemIO(modelDir));
  const range = PEER_RANGES[peer];
  return {
    name: `esrgan-${peer}`,
    detail: `${pkg}@${version} x${scale}, ${formatParams(countParams(model))}, input/output 0..${range}`,
    run: (lr) => runWholeImage(model, lr, range),
    dispose: () => model.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Our models, through the inference service (the code the app and the CLIs run)

/** Which rows each of our models gets (default: one, as the app runs it by default). */
export interface OurRows {
  /** sr: also a row per model with the 8-way self-ensemble, right after its plain row. */
  ensemble?: boolean;
  /**
   * colorize: a row per model and colour strength, in this order (1 is the model's own colour, and
   * its row is named like the default one).
   */
  colourStrengths?: readonly number[];
}

/**
 * Our exported models as the app runs them: an inference service over `modelDirs` (or, when none
 * are given, over the models folder, where it picks the model the app would use), PNG in and PNG
 * out, tiled as the model's metadata says. One method per model; `dispose` frees them all.
 *
 * @throws UsageError naming the `--model` folder when one of `modelDirs` cannot be loaded or is
 *   not a model for `task` and `scale`, or (paired) when `modelDirs` is empty and the models folder
 *   holds several paired models.
 */
export async function loadOurMethods(
  task: 'sr' | 'colorize' | 'paired',
  scale: number,
  modelDirs: readonly string[],
  backend?: BackendName,
  rows: OurRows = {},
): Promise<{ methods: Method[]; notes: string[]; dispose: () => void }> {
  // Explicit folders load whatever they are, so that a wrong one is an error rather than skipped.
  const service = await createInferenceService({
    ...(modelDirs.length > 0 ? { modelDirs: [...modelDirs] } : { tasks: [task] }),
    ...(backend ? { backend } : {}),
    // A broken --model is the usage error below, not also a warning.
    quiet: modelDirs.length > 0,
  });
  // The --model value as given, for the folder a model was loaded from.
  const givenDir = (summary: ModelSummary) => modelDirs.find((dir) => path.basename(path.resolve(dir)) === summary.name);
  if (modelDirs.length > 0 && service.problems.length > 0) {
    service.dispose();
    throw new UsageError(
      service.problems
        .map((problem) => {
          const dir = modelDirs.find((d) => describeModelProblem(problem, d) !== undefined);
          return dir === undefined ? `--model: ${problem}` : `--model ${dir}: ${describeModelProblem(problem, dir)}`;
        })
        .join('; '),
    );
  }
  const notes = service.problems.map((p) => `Model skipped: ${p}`);
  const label = modelKindLabel(task, task === 'sr' ? scale : undefined);
  const fits = (m: ModelSummary) => m.task === task && (task !== 'sr' || m.scale === scale);
  const wrong = service.models.filter((m) => !fits(m));
  if (modelDirs.length > 0 && wrong.length > 0) {
    service.dispose();
    throw new UsageError(
      wrong
        .map((m) => wrongModelKind(`--model ${givenDir(m) ?? m.name}`, m, { task, scale }))
        .join('; '),
    );
  }
  // Without --model: the one the app would pick (the service's default when no name is given).
  const preferred = service.defaultModel(task, scale);
  // No default among several paired models (as `npm run translate` says): which one the data is for cannot be guessed.
  const several = modelDirs.length === 0 && !preferred ? severalPairedModels(task === 'paired' ? service.models : [], service.source, 'choose one with --model <dir>') : undefined;
  if (several) {
    service.dispose();
    throw new UsageError(several);
  }
  const chosen = modelDirs.length > 0 ? service.models.filter(fits) : preferred ? [preferred] : [];
  if (chosen.length === 0) notes.push(`No ${label} model of ours in ${service.source}; pass --model <dir>.`);
  const modes: { ensemble: boolean; strength: number }[] =
    task === 'sr'
      ? [false, ...(rows.ensemble ? [true] : [])].map((ensemble) => ({ ensemble, strength: 1 }))
      : task === 'colorize'
        ? (rows.colourStrengths ?? [1]).map((strength) => ({ ensemble: false, strength }))
        : [{ ensemble: false, strength: 1 }];
  const how = { sr: 'tiled as its metadata says', colorize: "at the model's working size, averaged with its mirror image's", paired: 'the whole image at its own size, as npm run translate runs it' }[task];
  const methods = chosen.flatMap((summary) =>
    modes.map(
      ({ ensemble, strength }): Method => ({
        name: `ours (${summary.name}${ensemble ? ', ensemble' : ''}${strength !== 1 ? `, strength ${strength}` : ''})`,
        detail:
          `${summary.name}${summary.variant ? ` (${summary.variant})` : ''} from ${givenDir(summary) ?? path.join(service.source, summary.name)}, ` +
          `inference service (${how}, PNG in and out${ensemble ? ', mean of the 8 flips/transpositions' : ''}` +
          `${strength !== 1 ? `, colour strength ${strength}: predicted a*b* times ${strength}` : ''}), backend ${service.backend}`,
        modelDir: path.resolve(givenDir(summary) ?? path.join(service.source, summary.name)),
        async run(image) {
          const png = await encodePng({ data: toBytes(image), width: image.width, height: image.height, channels: 3 });
          const result =
            task === 'sr'
              ? await service.upscale(png, { scale: scale as 2 | 4, model: summary.name, ensemble })
              : task === 'colorize'
                ? await service.colorize(png, { model: summary.name, ...(strength !== 1 ? { colourStrength: strength } : {}) })
                : await service.translate(png, { model: summary.name });
          const decoded = await decodeImage(result.png);
          return fromBytes(decoded.data, decoded.width, decoded.height, 3);
        },
        // The service owns the weights; they are freed once, by the returned `dispose`.
        dispose: () => {},
      }),
    ),
  );
  return { methods, notes, dispose: () => service.dispose() };
}
