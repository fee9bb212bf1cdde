/**
 * Model cards: `models/<name>/README.md` written from the model's own metadata plus evaluation
 * tables and before/after samples, so the card cannot drift from what was exported.
 */
import path from 'node:path';
import type { ModelMetadata } from './metadata';

export interface CardInputs {
  metadata: ModelMetadata;
  /** Markdown tables from `npm run eval` (pasted verbatim). */
  evaluations: string[];
  /** Relative paths of sample images with captions. */
  samples: { file: string; caption: string }[];
  /** Free text: data licences, caveats, what is next. */
  notes?: string;
}

/**
 * The smallest sample side a card takes: an SR sample is cut to a multiple of the scale (a side
 * below it would leave no low-res pixel), and below this even a colorize sample shows nothing.
 */
export const MIN_SAMPLE_SIDE = 16;

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

const PIXEL_LOSS_NAMES: Record<string, string> = {
  l1: 'L1',
  l2: 'mean squared error',
  'l1-luma': 'L1 on BT.601 luma + 1/4 on each chroma channel (`l1-luma`)',
  'ab-classes': 'class-rebalanced cross-entropy over a*b* bins (`ab-classes`, Zhang et al. 2016)',
};

/** The loss row: the reconstruction term the run used (configs from before `pixelLoss` were L1), and the GAN. */
function describeLoss(gan: { mode?: string; lambdaL1?: number; pixelLoss?: string; classRebalance?: number } | undefined): string {
  const named = PIXEL_LOSS_NAMES[gan?.pixelLoss ?? 'l1'] ?? String(gan?.pixelLoss);
  const pixel = gan?.classRebalance === undefined ? named : `${named}, rebalancing lambda ${gan.classRebalance}`;
  // A class head decodes vividly on purpose: not the faithful kind, GAN or not.
  if (gan?.mode === 'none') return gan.pixelLoss === 'ab-classes' ? `${pixel} (no GAN)` : `${pixel} (no GAN: the faithful model)`;
  return `cGAN (${JSON.stringify(gan?.mode)}) + ${String(gan?.lambdaL1)} x ${pixel}`;
}

/** Renders the card; pure, for tests and for the CLI. */
export function renderModelCard({ metadata: md, evaluations, samples, notes }: CardInputs): string {
  const task = md.task === 'sr' ? `super-resolution x${md.scale}` : md.task;
  const arch = Object.entries(md.architecture).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  const cfg = md.training.config as Record<string, unknown>;
  const trainingRows: [string, string][] = [
    ['steps', String(md.training.steps)],
    // The metadata does not say how many threads it had (the shipped models' cards say: one core, shared).
    ['wall time', `${formatDuration(md.training.wallTimeSeconds)} on the ${md.training.backend} backend`],
    ['batch x crop', `${String(cfg.batchSize)} x ${String(cfg.cropSize)} px`],
    ['loss', describeLoss(cfg.gan as Parameters<typeof describeLoss>[0])],
    ['optimiser', `Adam ${JSON.stringify(cfg.optim)}, constant then linear decay over the last ${String(cfg.decaySteps)} steps`],
    ['data', `${md.training.data.description}`],
  ];
  if (typeof cfg.initFrom === 'string') {
    // Fine-tuned: the steps and time above are this run's alone.
    trainingRows.splice(1, 0, ['started from', `the weights of \`${path.basename(cfg.initFrom)}\` (\`--init-from\`; steps and wall time are this run's only)`]);
  }
  if (md.averagedFrom) {
    // The weights are a mean: the rows above describe its first source's run.
    const sources = md.averagedFrom.map((s) => `\`${s.name}\` (${s.steps} steps, weight ${s.weight.toFixed(2)})`).join(', ');
    trainingRows.unshift(['weights', `the mean of ${sources} (\`npm run average\`); the rows below are the first one's run, the wall time is all of theirs`]);
  }
  const metrics = Object.entries(md.metrics).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
  return [
    `# ${md.name}: ${task}`,
    '',
    md.description ?? '',
    '',
    '## Model',
    '',
    `- Input: ${md.inputChannels} channel(s), ${md.inputEncoding}; output: ${md.outputChannels} channel(s), ${md.outputEncoding}.`,
    `- Architecture: ${arch}.`,
    md.task === 'colorize'
      ? `- At inference the generator runs on the whole image at a ${md.workingSize ?? md.tile.size} px short side and on its mirror image (the two predictions averaged); the colour is upsampled and merged with the full-resolution L*.`
      : `- Tiling at inference: ${md.tile.size} px tiles with ${md.tile.padding} px of context on each side between tiles (none past the image edge: the network's own zero padding, as in training).`,
    `- Files: \`model.json\` + \`weights.bin\` (tfjs layers format), \`metadata.json\` (validated by \`lib/model/metadata.ts\`).`,
    '',
    '## Training',
    '',
    '| what | value |',
    '|---|---|',
    ...trainingRows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Validation metrics at export (held-out photos): ${metrics || (cfg.valFraction === 0 ? 'none (this run held no photos out)' : 'none')}.`,
    '',
    '## Evaluation',
    '',
    ...(evaluations.length ? evaluations.flatMap((e) => [e.trim(), '']) : ['Not evaluated yet.', '']),
    ...(samples.length ? ['## Samples', '', ...samples.flatMap((s) => [`![${s.caption}](${s.file})`, '', `*${s.caption}*`, ''])] : []),
    ...(notes ? ['## Notes', '', notes.trim(), ''] : []),
  ].join('\n');
}
