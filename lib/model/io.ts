/**
 * File-system save/load for tfjs models without tfjs-node (whose `file://` handler is the only one
 * Node has). Layout: `<dir>/model.json` + one `weights.bin`; loading also accepts the sharded
 * layouts other tools write (several paths in the weights manifest).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { makeFolders } from '@/lib/fs/folders';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/**
 * Puts the complete folder `ready` at `target`, replacing what is there, so that a crash at any
 * point leaves a complete folder at `target` or at `aside` (where the previous one waits until the
 * new one is in place): `aside` is cleared only while `target` holds a complete folder.
 * All three paths must be on one file system (siblings).
 */
export async function replaceDirectory(ready: string, target: string, aside: string): Promise<void> {
  const targetExists = await fs.stat(target).then(
    () => true,
    () => false,
  );
  if (targetExists) {
    await fs.rm(aside, { recursive: true, force: true });
    await fs.rename(target, aside);
  }
  await fs.rename(ready, target);
  await fs.rm(aside, { recursive: true, force: true });
}

/** `dir` holds something that writing a model folder there would destroy. */
export class NotAModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAModelFolderError';
  }
}

/**
 * Why a model folder must not be written at `dir` ({@link writeModelFolder} replaces it whole), or
 * undefined when it may: nothing there, an empty folder, or a model (it has a `metadata.json`,
 * readable or not: the app lists such a folder as a model). A file, or a folder of other files
 * that merely shares the model's name, would be lost.
 */
export async function whyNotReplaceable(dir: string): Promise<string | undefined> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat) return undefined;
  if (!stat.isDirectory()) return `${dir} is a file, not a model folder`;
  if (await fs.stat(path.join(dir, 'metadata.json')).then((s) => s.isFile(), () => false)) return undefined;
  if ((await fs.readdir(dir)).length === 0) return undefined;
  return `${dir} is a folder but not a model (no metadata.json), and writing the model would replace it whole`;
}

/**
 * Writes a model folder whole: `write` fills a hidden sibling folder (the app skips names starting
 * with "."), which then replaces `dir` ({@link replaceDirectory}). A loader never sees half a model,
 * nothing of a replaced model (its card, its samples) stays behind to describe new weights, and on
 * failure the partial folder is removed and `dir` is left as it was.
 *
 * @throws NotAModelFolderError when `dir` is a file or a folder of other files ({@link whyNotReplaceable}),
 *   before anything is written.
 */
export async function writeModelFolder(dir: string, write: (folder: string) => Promise<void>): Promise<void> {
  const refusal = await whyNotReplaceable(dir);
  if (refusal) throw new NotAModelFolderError(refusal);
  const parent = path.dirname(dir);
  const ready = path.join(parent, `.${path.basename(dir)}.writing-${process.pid}`);
  const aside = path.join(parent, `.${path.basename(dir)}.replaced-${process.pid}`);
  await fs.rm(ready, { recursive: true, force: true });
  await makeFolders(ready);
  try {
    await write(ready);
    await replaceDirectory(ready, dir, aside);
  } catch (error) {
    await fs.rm(ready, { recursive: true, force: true });
    throw error;
  }
}

function concatWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/** An IOHandler that saves to and loads from `dir` (created on save). */
export function fileSystemIO(dir: string): Required<Pick<io.IOHandler, 'save' | 'load'>> {
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      await makeFolders(dir);
      const weights = concatWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeAtomically(path.join(dir, WEIGHTS_BIN), weights);
      await writeAtomically(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology ?? {}).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },

    async load(): Promise<io.ModelArtifacts> {
      const jsonPath = path.join(dir, MODEL_JSON);
      let modelJson: {
        modelTopology?: object;
        format?: string;
        generatedBy?: string;
        convertedBy?: string | null;
        trainingConfig?: io.TrainingConfig;
        userDefinedMetadata?: Record<string, unknown>;
        weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
      };
      try {
        modelJson = JSON.parse(await fs.readFile(jsonPath, 'utf8'));
      } catch (error) {
        throw new Error(`Cannot read model ${jsonPath}: ${(error as Error).message}`);
      }
      const manifest = modelJson.weightsManifest ?? [];
      const specs: io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(new Uint8Array(await fs.readFile(path.join(dir, p))));
      }
      const joined = concatWeightData(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy ?? undefined,
        trainingConfig: modelJson.trainingConfig,
        userDefinedMetadata: modelJson.userDefinedMetadata as io.ModelArtifacts['userDefinedMetadata'],
        weightSpecs: specs,
        weightData: joined.buffer as ArrayBuffer,
      };
    },
  };
}
