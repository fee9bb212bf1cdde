/** The train flags' validation and `--resume`'s checks, without training (see loop.test.ts for runs). */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { resolveConfig, resolveConfigWithInit, resolveResumeConfig, trainFlagsSchema } from './config';

/** The messages of a failed parse, one per issue. */
function messages(flags: Record<string, unknown>): string[] {
  const result = trainFlagsSchema.safeParse({ task: 'sr', data: 'photos', ...flags });
  return result.success ? [] : result.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
}

describe('train flags', () => {
  it('run, resume and export names are one folder name: not empty, ".", ".." or a path', () => {
    for (const key of ['run', 'resume', 'export']) {
      expect(messages({ [key]: 'sr-x4_v1.2' }), key).toEqual([]);
      expect(messages({ [key]: '..' })).toEqual([`${key}: --${key} needs a letter, digit, "_" or "-"`]);
      expect(messages({ [key]: '.' })).toEqual([`${key}: --${key} needs a letter, digit, "_" or "-"`]);
      expect(messages({ [key]: '' })).toEqual([`${key}: --${key} must not be empty`]);
      expect(messages({ [key]: 'a/b' })).toEqual([`${key}: --${key} may contain letters, digits, "_", "." and "-" only`]);
    }
    // A run the Training page would not list is refused when it is named.
    for (const key of ['run', 'resume']) {
      for (const name of ['.hidden', '-x', 'a..b', 'x'.repeat(129)]) {
        expect(messages({ [key]: name }), name).toEqual([`${key}: --${key} must start with a letter, digit or "_", have no "..", and be at most 128 characters`]);
      }
      expect(messages({ [key]: 'x'.repeat(128) })).toEqual([]);
    }
  });

  it('numbers are decimal: an empty, blank, hex or infinite value is refused, not read as 0, 16 or Infinity', () => {
    const cases: [string, string, string][] = [
      ['lambdaL1', '', 'must be a number (got "")'],
      ['valFraction', '', 'must be a number (got "")'],
      ['blocks', '', 'must be a whole number (got "")'],
      ['seed', ' ', 'must be a whole number (got " ")'],
      ['decaySteps', '', 'must be a whole number (got "")'],
      ['steps', '0x10', 'must be a whole number (got "0x10")'],
      ['steps', '1.5', 'must be a whole number (got 1.5)'],
      ['lr', 'Infinity', 'must be a number (got "Infinity")'],
      ['lr', '0', 'must be above 0'],
      ['valFraction', '0.6', 'must be at most 0.5'],
      ['lambdaGan', '-1', 'must be at least 0'],
    ];
    for (const [key, value, message] of cases) expect(messages({ [key]: value }), `${key} ${JSON.stringify(value)}`).toEqual([`${key}: ${message}`]);
    const flags = trainFlagsSchema.parse({ task: 'sr', data: 'photos', lr: '2e-4', lambdaL1: '.5', valFraction: '0', steps: '1e3', seed: 3 });
    expect(flags).toMatchObject({ lr: 2e-4, lambdaL1: 0.5, valFraction: 0, steps: 1000, seed: 3 });
  });

  it('a missing --task or --data, a bad choice and an empty folder say so in plain words', () => {
    const missing = trainFlagsSchema.safeParse({});
    expect(missing.error?.issues.map((issue) => issue.message).sort()).toEqual(['--data is required: the folder of training images', '--task is required: colorize, sr or paired']);
    expect(messages({ task: 'nope' })).toEqual(['task: must be colorize, sr or paired']);
    expect(messages({ gan: 'gan' })).toEqual(['gan: must be vanilla, lsgan, wgangp or none']);
    expect(messages({ runsDir: '' })).toEqual(['runsDir: must not be empty']);
    expect(messages({ scale: '3' })).toEqual(['scale: must be 2 or 4']);
  });
});

describe('flags that do not apply to the task', () => {
  const resolve = (flags: Record<string, unknown>) => () => resolveConfig(trainFlagsSchema.parse({ data: 'photos', ...flags }));

  it('are refused on a new run, as the same command plus --resume would be, instead of being ignored', () => {
    expect(resolve({ task: 'colorize', scale: '4', features: '16' })).toThrow('--scale, --features: only for --task sr');
    expect(resolve({ task: 'sr', ngf: '8', dropout: '0.2' })).toThrow('--ngf, --dropout: only for --task colorize or paired');
    expect(resolve({ task: 'colorize', direction: 'BtoA' })).toThrow('--direction: only for --task paired');
    expect(resolve({ task: 'colorize', scale: '2', direction: 'AtoB' })).toThrow('--scale: only for --task sr; --direction: only for --task paired');
    // One table for every task-only flag: sr's data flags and colorize's class-head flags too.
    expect(resolve({ task: 'colorize', hrScales: '0.5', degradeBlur: '1' })).toThrow('--hr-scales, --degrade-blur: only for --task sr');
    expect(resolve({ task: 'paired', imageSide: '256', abGrid: '10' })).toThrow('--image-side, --ab-grid: only for --task colorize');
    // The discriminator's flags without a discriminator: sr trains without one unless --gan says.
    expect(resolve({ task: 'sr', ndf: '32', norm: 'instance' })).toThrow('--ndf, --norm: only with a discriminator (--gan vanilla, lsgan or wgangp); this run has none (--task sr defaults to --gan none)');
    expect(resolve({ task: 'colorize', gan: 'none', lambdaL1: '10' })).toThrow(/^--lambda-l1: only with a discriminator .*: without one the pixel loss alone is the loss, unweighted$/);
    expect(resolve({ task: 'colorize', head: 'classes', nLayers: '2' })).toThrow('--n-layers: only with a discriminator (--gan vanilla, lsgan or wgangp); this run has none (--head classes)');
    // ...and accepted where they apply.
    expect(resolve({ task: 'sr', scale: '2', features: '16', gan: 'lsgan', ndf: '32', norm: 'instance', lambdaL1: '25' })).not.toThrow();
    expect(resolve({ task: 'paired', direction: 'BtoA', ngf: '8', dropout: '0.2', ndf: '16' })).not.toThrow();
    expect(resolve({ task: 'colorize', norm: 'none', gan: 'none', depth: '6', imageSide: '128' })).not.toThrow();
  });

  it("every training command of the README and the shipped models' cards still resolves", async () => {
    const root = path.resolve(__dirname, '..', '..');
    const texts = [await fs.readFile(path.join(root, 'README.md'), 'utf8')];
    for (const model of await fs.readdir(path.join(root, 'models'))) {
      const card = await fs.readFile(path.join(root, 'models', model, 'README.md'), 'utf8').catch(() => undefined);
      if (card !== undefined) texts.push(card);
    }
    const commands: string[] = [];
    for (const text of texts) {
      // In prose, `npm run train -- ...` (wrapped over lines); in code blocks, lines continued by "\".
      for (const match of text.matchAll(/`npm run train -- ([^`]+)`/g)) commands.push(match[1]!);
      for (const match of text.replace(/\\\n\s*/g, ' ').matchAll(/^npm run train -- (.+)$/gm)) commands.push(match[1]!.replace(/\s+#.*$/, ''));
    }
    expect(commands.length).toBeGreaterThan(15);
    for (const command of commands) {
      // Placeholders: a model to start from that is not shipped is left out; a data folder is any name.
      const words = command.replace(/--init-from <[^>]+>/g, '').replace(/<[^>]+>/g, 'photos').trim().split(/\s+/);
      const raw: Record<string, string> = { data: 'photos' };
      for (let i = 0; i < words.length; i += 2) raw[words[i]!.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = words[i + 1]!;
      await expect(resolveConfigWithInit(trainFlagsSchema.parse(raw)), command).resolves.toBeDefined();
    }
  });
});

describe('resolveResumeConfig', () => {
  let runsDir: string;

  /** A run folder as training leaves it: config.json, and a checkpoint whose state is at `step`. */
  async function fakeRun(name: string, step: number, steps: number): Promise<void> {
    const config = resolveConfig(trainFlagsSchema.parse({ task: 'sr', data: 'photos', run: name, runsDir, steps }));
    await fs.mkdir(path.join(runsDir, name, 'checkpoint'), { recursive: true });
    await fs.writeFile(path.join(runsDir, name, 'config.json'), JSON.stringify(config));
    await fs.writeFile(path.join(runsDir, name, 'checkpoint', 'state.json'), JSON.stringify({ step, elapsedSec: 1, config }));
  }

  beforeAll(async () => {
    runsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'train-config-'));
  });
  afterAll(async () => {
    await fs.rm(runsDir, { recursive: true, force: true });
  });

  it('refuses --steps that are not above the step the run is at (it would train nothing and say "done")', async () => {
    await fakeRun('at-67', 67, 100);
    await expect(resolveResumeConfig({ resume: 'at-67', runsDir, steps: '3' })).rejects.toThrow(
      /--resume at-67: the run is already at step 67, so --steps 3 would train nothing: give --steps above 67 to train on, or export it as it is with `npm run export -- --run at-67 --runs-dir \S+ --name NAME`/,
    );
    await expect(resolveResumeConfig({ resume: 'at-67', runsDir, steps: '67' })).rejects.toThrow(/already at step 67/);
    await expect(resolveResumeConfig({ resume: 'at-67', runsDir, steps: '68' })).resolves.toMatchObject({ steps: 68 });
    await expect(resolveResumeConfig({ resume: 'at-67', runsDir })).resolves.toMatchObject({ steps: 100 });
    // A finished run, resumed as it was: its own --steps are done.
    await fakeRun('done', 50, 50);
    await expect(resolveResumeConfig({ resume: 'done', runsDir })).rejects.toThrow(/already at step 50, so its --steps 50 are done: give --steps above 50/);
  });

  it('continues a renamed or moved run where it is now, not where its config.json says it was', async () => {
    await fakeRun('ren', 5, 10);
    const moved = path.join(runsDir, 'elsewhere');
    await fs.mkdir(moved);
    await fs.rename(path.join(runsDir, 'ren'), path.join(moved, 'ren2'));
    await expect(resolveResumeConfig({ resume: 'ren2', runsDir: moved })).resolves.toMatchObject({ run: 'ren2', runsDir: moved });
    // The original command (--run ren) plus --resume works, and so does naming the run as it is now.
    await expect(resolveResumeConfig({ resume: 'ren2', runsDir: moved, run: 'ren' })).resolves.toMatchObject({ run: 'ren2' });
    await fs.writeFile(path.join(moved, 'ren2', 'config.json'), JSON.stringify({ ...JSON.parse(await fs.readFile(path.join(moved, 'ren2', 'config.json'), 'utf8')), run: 'ren2' }));
    await expect(resolveResumeConfig({ resume: 'ren2', runsDir: moved, run: 'ren2' })).resolves.toMatchObject({ run: 'ren2' });
    // ...and the original command still works once a resumed session has saved the new name.
    await expect(resolveResumeConfig({ resume: 'ren2', runsDir: moved, run: 'ren' })).resolves.toMatchObject({ run: 'ren2' });
  });

  it('refuses an empty or path-like --resume in plain words', async () => {
    await expect(resolveResumeConfig({ resume: '', runsDir })).rejects.toThrow(ZodError);
    await expect(resolveResumeConfig({ resume: '', runsDir })).rejects.toThrow(/--resume must not be empty/);
    await expect(resolveResumeConfig({ resume: '..', runsDir })).rejects.toThrow(/--resume needs a letter, digit/);
    await expect(resolveResumeConfig({ runsDir })).rejects.toThrow('--resume needs the name of the run to continue');
  });
});
