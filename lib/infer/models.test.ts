import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { listModelDirs } from './models';

describe('listModelDirs', () => {
  it('warns, naming the folder, when the models folder does not exist (a mistyped MODELS_DIR must not pass unnoticed)', async () => {
    const missing = path.join(os.tmpdir(), `no-such-models-${process.pid}`);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(await listModelDirs(missing)).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toBe(
        `[infer] the models folder ${missing} does not exist; no models loaded from it (set MODELS_DIR to the folder that holds them)`,
      );
    } finally {
      warn.mockRestore();
    }
  });
});
