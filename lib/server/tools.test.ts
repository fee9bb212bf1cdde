/** The tools the home page offers for a set of loaded models. */
import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '@/lib/infer/types';
import { NO_DESCRIPTION, toolOptions } from './tools';

const model = (name: string, task: ModelSummary['task'], scale: number, extra: Partial<ModelSummary> = {}): ModelSummary => ({
  name,
  task,
  scale,
  inputChannels: task === 'colorize' ? 1 : 3,
  outputChannels: task === 'colorize' ? 2 : 3,
  metrics: {},
  ...extra,
});

/** The models shipped in models/ (no paired one). */
const SHIPPED = [
  model('colorize', 'colorize', 1),
  model('colorize-vivid', 'colorize', 1, { variant: 'vivid', description: 'Colour-class colorizer.' }),
  model('sr-x2', 'sr', 2),
  model('sr-x4', 'sr', 4),
  model('sr-x4-sharp', 'sr', 4, { variant: 'sharp' }),
];

describe('toolOptions', () => {
  it('offers the shipped models\' tools, and no Translate tool without a paired model', () => {
    const tools = toolOptions(SHIPPED);
    expect(tools.map((t) => [t.id, t.task, t.label, t.model, t.scale, t.variant])).toEqual([
      ['colorize', 'colorize', 'Colorize', 'colorize', undefined, undefined],
      ['colorize-vivid', 'colorize', 'Vivid colorize', 'colorize-vivid', undefined, 'vivid'],
      ['x2', 'upscale', 'Upscale ×2', 'sr-x2', 2, undefined],
      ['x4', 'upscale', 'Upscale ×4', 'sr-x4', 4, undefined],
      ['x4-sharp', 'upscale', 'Sharp upscale ×4', 'sr-x4-sharp', 4, 'sharp'],
    ]);
    expect(tools.some((t) => t.models)).toBe(false);
  });

  it('adds one Translate tool last over every paired model, by name, with their descriptions', () => {
    const tools = toolOptions([model('maps', 'paired', 1, { description: 'Aerial photo to map.' }), ...SHIPPED, model('facades', 'paired', 1, { variant: 'sketchy' })]);
    expect(tools.map((t) => t.id)).toEqual(['colorize', 'colorize-vivid', 'x2', 'x4', 'x4-sharp', 'translate']);
    const translate = tools.at(-1)!;
    expect(translate).toMatchObject({ task: 'translate', label: 'Translate (your models)', model: 'facades' });
    expect(translate.scale).toBeUndefined();
    expect(translate.variant).toBeUndefined();
    expect(translate.models).toEqual([
      { name: 'facades', description: NO_DESCRIPTION },
      { name: 'maps', description: 'Aerial photo to map.' },
    ]);
  });

  it('says how to give a description to a paired model without one (what `npm run train --export` writes), not only that it lacks one', () => {
    const tools = toolOptions([model('sketch', 'paired', 1), model('blank', 'paired', 1, { description: '  ' })]);
    const hint = expect.stringMatching(/^No description: npm run export .*--description/);
    expect(tools[0]!.models!.map((m) => m.description)).toEqual([hint, hint]);
    // Short: it is one line under the model's name in the chooser.
    expect(NO_DESCRIPTION.length).toBeLessThanOrEqual(80);
  });

  it('offers Translate alone on a server with only paired models', () => {
    expect(toolOptions([model('maps', 'paired', 1)]).map((t) => [t.id, t.models])).toEqual([['translate', [{ name: 'maps', description: NO_DESCRIPTION }]]]);
    expect(toolOptions([])).toEqual([]);
  });
});
