/**
 * Export a trained generator as a self-describing model folder:
 * `<dir>/model.json`, `weights.bin`, `metadata.json` (validated by the schema the loaders use).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { fileSystemIO, writeModelFolder } from '@/lib/model/io';
import { metadataSchema, type ModelMetadata } from '@/lib/model/metadata';
import { foldedArchitecture, foldForInference, srNetContext, type InferenceOptions } from '@/lib/models/generators';
import type { TaskExportInfo } from '@/lib/tasks/types';
import type { TrainConfig } from './config';

export interface ExportDetails {
  name: string;
  config: TrainConfig;
  exportInfo: TaskExportInfo;
  steps: number;
  wallTimeSeconds: number;
  backend: string;
  dataDescription: string;
  images: number;
  metrics: Record<string, number>;
  variant?: string;
  description?: string;
  /** Export-time choices (a class head's decoding temperature). */
  inference?: InferenceOptions;
}

/** What a run's `log.jsonl` tells an export from one of its checkpoints. */
export interface RunLogSummary {
  /**
   * The metrics of the validation at the checkpoint's step, keys prefixed `val_`; empty when the log
   * has none at that step (a later one scored other weights than the checkpoint holds) or when the
   * run held nothing out ({@link exportedMetrics}).
   */
  metrics: Record<string, number>;
  /** The data the run (last) started with; undefined for logs from before it was recorded. */
  data?: { description: string; images: number };
  /** How many photos the run held out for validation; undefined for logs from before it was recorded. */
  heldOut?: number;
}

/**
 * The metrics a model's metadata records: `val_`-prefixed, and none when nothing was held out
 * (`--val-fraction 0` or a single image: validation then scored an image the model trained on, which
 * says little about new photos, while the metadata and the model card present them as held-out scores).
 */
export function exportedMetrics(metrics: Record<string, number>, heldOut: number | undefined): Record<string, number> {
  if (heldOut === 0) return {};
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`val_${k}`, v]));
}

/**
 * Reads {@link RunLogSummary} from `log.jsonl` text; bad lines (a live run's half-written last one)
 * are skipped.
 *
 * @param step the checkpoint's step: only a validation at it describes the checkpoint's weights (the
 *   last such record, as a resumed session repeats steps its predecessor logged before it stopped).
 */
export function summariseRunLog(text: string, step: number): RunLogSummary {
  let metrics: Record<string, number> = {};
  let data: RunLogSummary['data'];
  let heldOut: number | undefined;
  for (const line of text.split('\n')) {
    let entry: { type?: unknown; step?: unknown; metrics?: Record<string, number>; description?: unknown; images?: unknown; heldOut?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.type === 'val' && entry.step === step && entry.metrics) metrics = entry.metrics;
    if (entry.type === 'data' && typeof entry.description === 'string' && typeof entry.images === 'number') {
      data = { description: entry.description, images: entry.images };
      // Logs from before it was recorded keep their metrics (their runs held photos out unless asked not to).
      heldOut = typeof entry.heldOut === 'number' ? entry.heldOut : undefined;
    }
  }
  return { metrics: exportedMetrics(metrics, heldOut), ...(data ? { data } : {}), ...(heldOut !== undefined ? { heldOut } : {}) };
}

/** Builds the metadata for a trained generator from its training config. */
export function buildMetadata(d: ExportDetails): ModelMetadata {
  const g = d.config.generator;
  const multipleOf = g.kind === 'unet' ? 2 ** g.depth : 1;
  // An srnet's exact tile context grows with its depth; the task's default fits the shipped 4 blocks.
  const tile = { ...d.exportInfo.tile, multipleOf, ...(g.kind === 'srnet' ? { padding: srNetContext(g) } : {}) };
  if (tile.size % multipleOf !== 0) tile.size = Math.ceil(tile.size / multipleOf) * multipleOf;
  const { runsDir: _runsDir, modelsDir: _modelsDir, data: _data, ...portableConfig } = d.config;
  // The model it started from by its folder's name (`sr-x4`), as the data folder is: a local
  // absolute path says nothing on another machine and tells where this one keeps its files.
  if (portableConfig.initFrom) portableConfig.initFrom = path.basename(portableConfig.initFrom);
  return metadataSchema.parse({
    formatVersion: 1,
    name: d.name,
    task: d.exportInfo.task,
    scale: d.exportInfo.scale,
    inputChannels: d.exportInfo.inputChannels,
    outputChannels: d.exportInfo.outputChannels,
    inputEncoding: d.exportInfo.inputEncoding,
    outputEncoding: d.exportInfo.outputEncoding,
    tile,
    workingSize: d.exportInfo.workingSize ? Math.max(multipleOf, Math.round(d.exportInfo.workingSize / multipleOf) * multipleOf) : undefined,
    // What the folder holds: an srnet trained with expansion exports folded into plain convs.
    architecture: foldedArchitecture(g, d.inference),
    // Our generators use instance norm (same in training and inference) and are exported with
    // dropout off, so tfjs predict() is exactly the model; batch norm would need batch statistics.
    trainingModeAtInference: { batchNorm: g.kind === 'unet' && g.norm === 'batch', dropout: false },
    training: {
      config: portableConfig,
      steps: d.steps,
      wallTimeSeconds: Math.round(d.wallTimeSeconds),
      backend: d.backend,
      data: { description: d.dataDescription.replace(d.config.data, path.basename(d.config.data)), images: d.images },
    },
    metrics: d.metrics,
    createdAt: new Date().toISOString(),
    variant: d.variant,
    description: d.description,
  });
}

/**
 * Saves `generator` and its metadata to `dir` (created, or replaced whole: see {@link writeModelFolder}); a generator trained with
 * over-parameterised convs is saved folded into the plain network ({@link foldForInference}).
 */
export async function exportGenerator(generator: tfl.LayersModel, dir: string, details: ExportDetails): Promise<ModelMetadata> {
  const metadata = buildMetadata(details);
  const folded = foldForInference(generator, details.config.generator, details.inference);
  try {
    await writeModelFolder(dir, async (folder) => {
      await folded.model.save(fileSystemIO(folder));
      await fs.writeFile(path.join(folder, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
    });
  } finally {
    if (folded.model !== generator) folded.model.dispose();
  }
  return metadata;
}
