import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMetadata } from './metadata';

const MODELS = path.resolve(__dirname, '..', '..', 'models');

async function shippedMetadata(): Promise<[string, Record<string, unknown>][]> {
  const names = (await fs.readdir(MODELS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  return Promise.all(names.map(async (name) => [name, JSON.parse(await fs.readFile(path.join(MODELS, name, 'metadata.json'), 'utf8')) as Record<string, unknown>] as [string, Record<string, unknown>]));
}

describe('metadata variant', () => {
  it("is a name the API's ?variant= accepts, as the shipped models' (sharp, vivid) and the default faithful are", async () => {
    const shipped = await shippedMetadata();
    expect(shipped.map(([, json]) => json.variant).filter((v) => v !== undefined).sort()).toEqual(['sharp', 'vivid']);
    for (const [name, json] of shipped) expect(parseMetadata(json, name).name).toBe(json.name);

    const [, base] = shipped[0]!;
    for (const variant of ['faithful', 'sharp', 'vivid', 'x4-real', 'v2']) expect(parseMetadata({ ...base, variant }, 'ok').variant).toBe(variant);
    for (const variant of ['has space', 'Sharp', 'a_b', '2x', '', 'a'.repeat(33), 'x&y=1']) {
      expect(() => parseMetadata({ ...base, variant }, 'bad.json'), variant).toThrow(/Invalid model metadata in bad\.json: variant: must be a lowercase letter/);
    }
  });
});
