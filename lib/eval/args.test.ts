import { describe, expect, it } from 'vitest';
import { parseEvalArgs, UsageError } from './args';

function fails(argv: string[], pattern: RegExp): void {
  let error: unknown;
  try {
    parseEvalArgs(argv);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).toMatch(pattern);
}

describe('parseEvalArgs', () => {
  it('parses an SR run with defaults: all three peers, Y scoring', () => {
    expect(parseEvalArgs(['--task', 'sr', '--scale', '4', '--data', 'bench/Set5'])).toEqual({
      task: 'sr',
      scale: 4,
      data: 'bench/Set5',
      peers: ['slim', 'medium', 'thick'],
      gray: 'y',
      ensemble: false,
      json: false,
      verbose: false,
    });
    expect(parseEvalArgs(['--task', 'sr', '--scale', '2', '--data', 'd', '--ensemble'])).toMatchObject({ ensemble: true });
  });

  it('parses peers lists, none, limits and switches', () => {
    const args = parseEvalArgs(['--task=sr', '--scale=2', '--data=d', '--peers', 'thick,slim,thick', '--limit', '3', '--json', '--model', 'm', '--model', 'n']);
    expect(args).toMatchObject({ scale: 2, peers: ['thick', 'slim'], limit: 3, json: true, model: ['m', 'n'] });
    expect(parseEvalArgs(['--task', 'sr', '--scale', '2', '--data', 'd', '--peers', 'none'])).toMatchObject({ peers: [] });
    expect(parseEvalArgs(['--task', 'colorize', '--data', 'photos', '--limit', '20', '--verbose'])).toEqual({
      task: 'colorize',
      data: 'photos',
      limit: 20,
      json: false,
      verbose: true,
    });
    expect(parseEvalArgs(['--help'])).toBe('help');
  });

  it('parses colour strengths for colorize: a list, in order, repeats dropped', () => {
    expect(parseEvalArgs(['--task', 'colorize', '--data', 'd', '--strength', '1, 1.4,0.8,1.4'])).toMatchObject({ strength: [1, 1.4, 0.8] });
    expect(parseEvalArgs(['--task', 'colorize', '--data', 'd', '--strength', '2'])).toMatchObject({ strength: [2] });
    expect((parseEvalArgs(['--task', 'colorize', '--data', 'd']) as { strength?: number[] }).strength).toBeUndefined();
  });

  it('rejects unknown flags, missing and bad values with the flag named', () => {
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--fast'], /Unknown option '--fast'/);
    fails(['--scale', '4', '--data', 'd'], /--task is required/);
    fails(['--task', 'denoise', '--data', 'd'], /--task must be sr, colorize or paired; got "denoise"/);
    fails(['--task', 'sr', '--data', 'd'], /--scale is required/);
    fails(['--task', 'sr', '--scale', '3', '--data', 'd'], /--scale must be 2 or 4/);
    fails(['--task', 'sr', '--scale', '4'], /--data <folder> is required/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--peers', 'slim,huge'], /--peers takes/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--limit', '0'], /--limit must be a positive whole number/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--limit', '2.5'], /--limit/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--backend', 'gpu'], /--backend must be/);
    fails(['--task', 'colorize', '--data', 'd', '--scale', '2'], /^--scale only applies to --task sr$/);
    fails(['--task', 'colorize', '--data', 'd', '--ensemble'], /^--ensemble only applies to --task sr$/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--strength', '1.2'], /^--strength only applies to --task colorize$/);
    fails(['--task', 'colorize', '--data', 'd', '--strength', '1,2.5'], /--strength takes colour strengths from 0 to 2, comma-separated .*got "2.5"/);
    fails(['--task', 'colorize', '--data', 'd', '--strength', '1,,1.2'], /--strength takes .*got ""/);
    fails(['--task', 'colorize', '--data', 'd', '--strength', 'x'], /--strength takes .*got "x"/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', 'extra'], /positional/i);
  });

  it('parses a paired run: --direction optional (the models say which way they were trained), other tasks\' flags refused by name', () => {
    expect(parseEvalArgs(['--task', 'paired', '--data', 'pairs', '--model', 'm'])).toEqual({ task: 'paired', data: 'pairs', model: ['m'], json: false, verbose: false });
    expect(parseEvalArgs(['--task', 'paired', '--data', 'pairs', '--direction', 'BtoA', '--json'])).toMatchObject({ direction: 'BtoA', json: true });
    fails(['--task', 'paired', '--data', 'd', '--direction', 'btoa'], /^--direction must be AtoB or BtoA$/);
    fails(['--task', 'paired', '--data', 'd', '--scale', '2'], /^--scale only applies to --task sr$/);
    fails(['--task', 'paired', '--data', 'd', '--peers', 'none', '--gray', 'y'], /^--peers, --gray only apply to --task sr$/);
    fails(['--task', 'sr', '--scale', '2', '--data', 'd', '--direction', 'AtoB'], /^--direction only applies to --task paired$/);
    fails(['--task', 'colorize', '--data', 'd', '--direction', 'AtoB'], /^--direction only applies to --task paired$/);
    fails(['--task', 'paired', '--data', 'd', '--direction', 'AtoB', '--direction', 'BtoA'], /^--direction is given twice/);
  });

  it('refuses a flag given twice, except --model (one row per model)', () => {
    fails(['--task', 'sr', '--scale', '4', '--data', 'a', '--data', 'b'], /^--data is given twice \(a, b\); give it once$/);
    fails(['--task', 'sr', '--scale', '2', '--scale', '4', '--data', 'd'], /--scale is given twice/);
    fails(['--task', 'sr', '--scale', '4', '--data', 'd', '--json', '--json'], /^--json is given twice; give it once$/);
    expect(parseEvalArgs(['--task', 'sr', '--scale', '4', '--data', 'd', '--model', 'A', '--model', 'B', '--model', 'C'])).toMatchObject({
      model: ['A', 'B', 'C'],
    });
  });

  it('refuses one --model folder twice, or two of one name (rows and the service know models by folder name)', () => {
    const base = ['--task', 'sr', '--scale', '2', '--data', 'd'];
    fails([...base, '--model', 'models/sr-x2', '--model', 'models/sr-x2'], /^--model models\/sr-x2 is given twice; give each model once$/);
    fails([...base, '--model', 'models/sr-x2', '--model', './models/sr-x2/'], /^--model models\/sr-x2 and --model \.\/models\/sr-x2\/ are the same folder/);
    fails([...base, '--model', 'a/sr-x2', '--model', 'b/sr-x2'], /^--model a\/sr-x2 and --model b\/sr-x2 are both named sr-x2: /);
    expect(parseEvalArgs([...base, '--model', 'a/sr-x2', '--model', 'a/sr-x2-sharp'])).toMatchObject({ model: ['a/sr-x2', 'a/sr-x2-sharp'] });
  });
});
