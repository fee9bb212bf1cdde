import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InputError, type InferenceResult } from '@/lib/infer/types';
import { flag, parseCli, parseDecimal, runCli, shellWord, UsageError, wantsHelp } from './args';
import { processImages } from './batch';
import { decodableExtensions, IMAGE_EXTENSIONS, isImageFileName } from '@/lib/image/formats';
import { collectImageFiles, outputPaths } from './files';
import { checkOutDir, cliPixelLimits, runInferCommand, USAGE } from './infer-command';
import { MAX_RESULT_PIXELS } from '@/lib/image/decode';
import { testMetadata } from '@/lib/infer/test-models';
import { ProgressBar } from './progress';
import { lockFolders, makeSpecialEntries } from './test-fs';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY = false, readonly columns?: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const spec = {
  options: { out: { type: 'string' }, scale: { type: 'string' }, json: { type: 'boolean' } } as const,
  schema: z.object({
    out: flag.text('out'),
    scale: flag.choice('scale', ['2', '4']).optional(),
    json: z.boolean().optional(),
    positionals: z.array(z.string()).min(1, 'give at least one file'),
  }),
};

describe('parseCli', () => {
  it('returns validated flags and positionals', () => {
    expect(parseCli(['a.png', '--out', 'o', '--scale', '4', 'b', '--json'], spec)).toEqual({
      out: 'o',
      scale: '4',
      json: true,
      positionals: ['a.png', 'b'],
    });
  });

  it('turns every mistake into one UsageError naming the flag', () => {
    const message = (argv: string[]) => {
      try {
        parseCli(argv, spec);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message(['x', '--out', 'o', '--bogus'])).toBe('unknown flag --bogus');
    expect(message(['x', '--out'])).toBe('--out needs a value');
    expect(message(['x', '--out', 'o', '--json=yes'])).toBe('--json takes no value');
    expect(message(['x', '--out', 'o', '--scale', '3'])).toBe('--scale must be 2 or 4');
    expect(message(['x'])).toBe('--out needs a value');
    expect(message(['--out', 'o'])).toBe('arguments: give at least one file');
    expect(message(['x', '--out', ''])).toBe('--out must not be empty');
    expect(message(['x', '--out', 'a', '--out', 'b'])).toBe('--out is given twice (a, b); give it once');
    expect(message(['x', '--out=a', 'y', '--out', 'b'])).toBe('--out is given twice (a, b); give it once');
    expect(message(['x', '--out', 'o', '--json', '--json'])).toBe('--json is given twice; give it once');
  });

  it('takes a flag declared multiple as often as it is given', () => {
    const repeatable = {
      options: { model: { type: 'string', multiple: true }, out: { type: 'string' } } as const,
      schema: z.object({ model: z.array(z.string()), out: z.string().optional(), positionals: z.array(z.string()) }),
    };
    expect(parseCli(['--model', 'A', '--model', 'B', 'p', 'q'], repeatable)).toEqual({ model: ['A', 'B'], positionals: ['p', 'q'] });
    expect(() => parseCli(['--model', 'A', '--out', 'a', '--out', 'b'], repeatable)).toThrow('--out is given twice');
  });

  it('flag.int validates whole numbers with a minimum', () => {
    const schema = z.object({ n: flag.int('n', 2).optional(), positionals: z.array(z.string()) });
    expect(parseCli(['--n', '5'], { options: { n: { type: 'string' } }, schema })).toEqual({ n: 5, positionals: [] });
    expect(() => parseCli(['--n', '1'], { options: { n: { type: 'string' } }, schema })).toThrow('--n must be at least 2');
    expect(() => parseCli(['--n', '1.5'], { options: { n: { type: 'string' } }, schema })).toThrow('--n must be a whole number');
  });

  it('flag.number takes decimal notation only, within its bounds, and names the flag', () => {
    const schema = z.object({ t: flag.number('t', { above: 0, max: 1 }), positionals: z.array(z.string()) });
    const parse = (...argv: string[]) => parseCli(argv, { options: { t: { type: 'string' } }, schema });
    expect(parse('--t', '2e-1')).toEqual({ t: 0.2, positionals: [] });
    expect(parse('--t', ' .5 ')).toEqual({ t: 0.5, positionals: [] });
    // What Number() would have taken: "" and " " as 0, hex, binary, Infinity.
    for (const bad of ['', ' ', '0x1', '0b1', 'Infinity', '1,5', 'half']) {
      expect(() => parse('--t', bad)).toThrow(`--t must be a number (got "${bad}")`);
    }
    expect(() => parse('--t', '0')).toThrow('--t must be above 0');
    expect(() => parse('--t', '1.5')).toThrow('--t must be at most 1');
    expect(() => parse()).toThrow('--t needs a value');
    expect(parseDecimal('-3e2')).toBe(-300);
    expect(parseDecimal('1e')).toBeNaN();
  });

  it('flag.modelName accepts folder names and refuses paths, "." and ".."', () => {
    const schema = z.object({ name: flag.modelName('name'), positionals: z.array(z.string()) });
    const parse = (value: string) => parseCli(['--name', value], { options: { name: { type: 'string' } }, schema });
    expect(parse('sr-x4_v1.2')).toEqual({ name: 'sr-x4_v1.2', positionals: [] });
    expect(() => parse('a/b')).toThrow('--name may contain letters, digits');
    expect(() => parse('..')).toThrow('--name needs a letter, digit');
    expect(() => parse('.')).toThrow('--name needs a letter, digit');
  });
});

describe('runCli', () => {
  it('maps help, usage errors, other errors and success to exit codes 0, 2, 1, main’s', async () => {
    const previous = process.exitCode;
    try {
      const out = new Capture();
      const err = new Capture();
      const io = { name: 'tool', usage: 'Usage: tool [x]', stdout: out, stderr: err };
      expect(await runCli({ ...io, argv: ['--help'] }, async () => 5)).toBe(0);
      expect(out.text).toContain('Usage: tool');
      expect(await runCli({ ...io, argv: [] }, async () => {
        throw new UsageError('--x is wrong');
      })).toBe(2);
      expect(err.text).toContain('tool: --x is wrong\n\nUsage: tool [x]');
      expect(await runCli({ ...io, argv: [] }, async () => {
        throw new Error('disk full');
      })).toBe(1);
      expect(err.text).toContain('tool: disk full');
      expect(await runCli({ ...io, argv: ['a'] }, async (argv) => (argv[0] === 'a' ? 7 : 0))).toBe(7);
    } finally {
      process.exitCode = previous;
    }
  });

  it('wantsHelp ignores arguments after --', () => {
    expect(wantsHelp(['a', '-h'])).toBe(true);
    expect(wantsHelp(['a', '--', '--help'])).toBe(false);
  });
});

describe('collectImageFiles / outputPaths', () => {
  it('expands folders (sorted, images only, recursive on request), keeps explicit files, reports missing paths', async () => {
    const root = path.join(dir, 'collect');
    await fs.mkdir(path.join(root, 'sub'), { recursive: true });
    for (const name of ['b10.png', 'b2.JPG', 'notes.txt', '.hidden.png', 'sub/c.webp']) await fs.writeFile(path.join(root, name), 'x');
    await fs.mkdir(path.join(root, 'empty'));
    const explicit = path.join(root, 'notes.txt');
    const flat = await collectImageFiles([root, explicit, path.join(root, 'b2.JPG'), path.join(root, 'missing.png'), path.join(root, 'empty')]);
    expect(flat.files.map((f) => path.relative(root, f))).toEqual(['b2.JPG', 'b10.png', 'notes.txt']);
    expect(flat.problems.map((p) => p.message)).toEqual(['no such file or folder', 'no images in this folder']);
    const deep = await collectImageFiles([root], { recursive: true });
    expect(deep.files.map((f) => path.relative(root, f))).toEqual(['b2.JPG', 'b10.png', path.join('sub', 'c.webp')]);
  });

  it('reports an unreadable sub-folder under its own path and still walks the folders after it', async () => {
    const root = path.join(dir, 'locked-walk');
    for (const name of ['a.png', 'a-sub/b.png', 'lockeddir/c.png', 'z-sub/d.png', 'zz.png', 'only-locked/inner/e.png']) {
      await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await fs.writeFile(path.join(root, name), 'x');
    }
    const spy = lockFolders(path.join(root, 'lockeddir'), path.join(root, 'only-locked', 'inner'));
    try {
      const found = await collectImageFiles([root, path.join(root, 'only-locked')], { recursive: true });
      expect(found.files.map((f) => path.relative(root, f))).toEqual([
        path.join('a-sub', 'b.png'),
        'a.png',
        path.join('z-sub', 'd.png'),
        'zz.png',
      ]);
      // Each under the input as written plus the sub-folder's name; inner, reached from both inputs,
      // once; and no "no images in this folder" for only-locked besides.
      expect(found.problems).toEqual([
        { path: path.join(root, 'lockeddir'), message: expect.stringMatching(/^cannot read the folder: EACCES: permission denied/) },
        { path: path.join(root, 'only-locked', 'inner'), message: expect.stringMatching(/^cannot read the folder: EACCES/) },
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it('takes only regular files (and links to them) from folders, never a FIFO; a path named explicitly is taken as it is', async () => {
    const root = await makeSpecialEntries(dir);
    const found = await collectImageFiles([root], { recursive: true });
    expect(found.files.map((f) => path.relative(root, f))).toEqual(['a.png', 'link.jpg']);
    expect(found.problems).toEqual([]);
    const explicit = await collectImageFiles([path.join(root, 'p.png'), '/dev/stdin']);
    expect(explicit.files).toEqual([path.join(root, 'p.png'), '/dev/stdin']);
  });

  it('does not descend into the output folder (a re-run would take its own results as inputs)', async () => {
    const root = path.join(dir, 'rerun');
    await fs.mkdir(path.join(root, 'big'), { recursive: true });
    await fs.mkdir(path.join(root, 'sub'), { recursive: true });
    for (const name of ['a.jpg', 'big/a.png', 'sub/b.png']) await fs.writeFile(path.join(root, name), 'x');
    const found = await collectImageFiles([root], { recursive: true, skipFolders: [path.join(root, 'big')] });
    expect(found.files.map((f) => path.relative(root, f))).toEqual(['a.jpg', path.join('sub', 'b.png')]);
    // named as an input itself, the folder is taken
    const named = await collectImageFiles([path.join(root, 'big')], { recursive: true, skipFolders: [path.join(root, 'big')] });
    expect(named.files.map((f) => path.relative(root, f))).toEqual([path.join('big', 'a.png')]);
  });

  it('takes from folders only the formats sharp decodes (no .bmp; .heic only with a HEVC-capable build)', () => {
    const fake = {
      png: { input: { file: true, fileSuffix: ['.png'] } },
      heif: { input: { file: true, fileSuffix: ['.avif'] } },
      magick: { input: { file: false } },
      raw: { input: { file: false, fileSuffix: ['.bmp'] } },
    };
    expect(decodableExtensions(fake)).toEqual(['.png', '.avif']);
    expect(decodableExtensions({ ...fake, heif: { input: { file: true, fileSuffix: ['.heic', '.heif', '.avif'] } } })).toEqual([
      '.png',
      '.avif',
      '.heic',
      '.heif',
    ]);
    const readable = Object.values(sharp.format).flatMap((f) => (f.input.file ? (f.input.fileSuffix ?? []) : []));
    for (const ext of IMAGE_EXTENSIONS) expect(readable).toContain(ext);
    expect(IMAGE_EXTENSIONS).not.toContain('.bmp');
    expect(isImageFileName('x.HEIC')).toBe(readable.includes('.heic'));
  });

  it("the CLIs' --help lists exactly the folder formats", () => {
    for (const usage of [USAGE.colorize, USAGE.upscale, USAGE.translate]) {
      const listed = /taken \(([^)]*)\)/.exec(usage)?.[1]?.split(', ');
      expect(listed).toEqual(IMAGE_EXTENSIONS.map((ext) => ext.slice(1)));
    }
    if (!(sharp.format.heif.input.fileSuffix ?? []).includes('.heic')) expect(USAGE.upscale).not.toMatch(/heic/i);
  });

  it('gives each input a unique <stem>.png', () => {
    const outputs = outputPaths(['/a/photo.jpg', '/b/photo.png', '/c/Photo.webp', '/d/x.tar.gz'], '/out');
    expect([...outputs.values()]).toEqual(['/out/photo.png', '/out/photo-2.png', '/out/Photo-3.png', '/out/x.tar.png']);
  });
});

describe('ProgressBar', () => {
  it('renders counts, fraction and detail', () => {
    let t = 0;
    const bar = new ProgressBar({ unit: 'files', total: 4, width: 8, stream: new Capture(), now: () => t });
    t = 10_000;
    bar.update(1, 0.5, 'a.png tiles 2/4');
    expect(bar.render()).toBe('[###.....] 1/4 files 0:10 eta 0:17  a.png tiles 2/4');
  });

  it('redraws in place on a terminal and only logs lines elsewhere', () => {
    const tty = new Capture(true, 200);
    const bar = new ProgressBar({ unit: 'files', total: 2, stream: tty, throttleMs: 0 });
    bar.update(0, 0.5, 'x');
    bar.log('ok x');
    bar.finish('done');
    expect(tty.text).toContain('\r\x1b[2K[');
    expect(tty.text).toContain('ok x\n');
    expect(tty.text.endsWith('done\n')).toBe(true);

    const pipe = new Capture(false);
    const quiet = new ProgressBar({ unit: 'files', total: 2, stream: pipe, throttleMs: 0 });
    quiet.update(1, 0.5, 'x');
    quiet.log('ok x');
    quiet.finish('done');
    expect(pipe.text).toBe('ok x\ndone\n');
  });
});

describe('processImages', () => {
  function fakeResult(png: Buffer): InferenceResult {
    return { png, width: 2, height: 2, inputWidth: 1, inputHeight: 1, model: 'm', backend: 'cpu', ms: 1 };
  }

  it('writes <out>/<stem>.png, reports a failure and goes on', async () => {
    const inDir = path.join(dir, 'batch-in');
    await fs.mkdir(inDir, { recursive: true });
    const files = ['one.jpg', 'bad.png', 'three.webp'].map((f) => path.join(inDir, f));
    for (const f of files) await fs.writeFile(f, path.basename(f));
    const stream = new Capture();
    const outDir = path.join(dir, 'batch-out');
    const result = await processImages({
      files: [...files, path.join(inDir, 'gone.png')],
      outDir,
      stream,
      failedBefore: [{ file: 'missing-folder', message: 'no such file or folder' }],
      run: async (bytes, options) => {
        if (bytes.toString() === 'bad.png') throw new InputError('unsupported_image', 'Not a supported image');
        options.onProgress?.({ done: 1, total: 1, elapsedMs: 0 });
        return fakeResult(Buffer.from(`out:${bytes.toString()}`));
      },
    });
    expect(result.succeeded.map((s) => path.basename(s.output))).toEqual(['one.png', 'three.png']);
    expect(await fs.readFile(path.join(outDir, 'three.png'), 'utf8')).toBe('out:three.webp');
    expect(result.failed.map((f) => [path.basename(f.file), f.message])).toEqual([
      ['missing-folder', 'no such file or folder'],
      ['bad.png', 'Not a supported image'],
      ['gone.png', 'file not found'],
    ]);
    expect(stream.text).toContain('FAIL  bad.png: Not a supported image');
    expect(stream.text).toContain('2 of 5 done, 3 failed');
    expect((await fs.readdir(outDir)).sort()).toEqual(['one.png', 'three.png']);
  });

  it('refuses to overwrite an input and stops on abort', async () => {
    const inDir = path.join(dir, 'same');
    await fs.mkdir(inDir, { recursive: true });
    const file = path.join(inDir, 'x.png');
    await fs.writeFile(file, 'x');
    const same = await processImages({ files: [file], outDir: inDir, stream: new Capture(), run: async (b) => fakeResult(b) });
    expect(same.failed[0]?.message).toMatch(/overwrite an input/);
    expect(await fs.readFile(file, 'utf8')).toBe('x');

    // The same folder through a symlink: another path, the same files.
    const link = path.join(dir, 'same-link');
    await fs.symlink(inDir, link);
    const linked = await processImages({ files: [file], outDir: link, stream: new Capture(), run: async (b) => fakeResult(Buffer.from(`out:${b.toString()}`)) });
    expect(linked.failed[0]?.message).toMatch(/overwrite an input/);
    expect(await fs.readFile(file, 'utf8')).toBe('x');

    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    await expect(
      processImages({ files: [file], outDir: path.join(dir, 'abort-out'), stream: new Capture(), run: async () => Promise.reject(abort) }),
    ).rejects.toBe(abort);
  });

  it('prints the summary with the files not processed when cancelled', async () => {
    const inDir = path.join(dir, 'cancel-in');
    await fs.mkdir(inDir, { recursive: true });
    const files = ['a.png', 'b.png', 'c.png', 'd.png'].map((f) => path.join(inDir, f));
    for (const f of files) await fs.writeFile(f, path.basename(f));
    const stream = new Capture();
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    await expect(
      processImages({
        files,
        outDir: path.join(dir, 'cancel-out'),
        stream,
        failedBefore: [{ file: 'missing.png', message: 'no such file or folder' }],
        run: async (bytes) => {
          if (bytes.toString() === 'b.png') throw new InputError('unsupported_image', 'Not a supported image');
          if (bytes.toString() === 'c.png') throw abort;
          return fakeResult(bytes);
        },
      }),
    ).rejects.toBe(abort);
    // a.png done, missing.png and b.png failed, c.png (interrupted) and d.png not processed.
    expect(stream.text.trimEnd().split('\n').at(-1)).toBe('1 of 5 done, 2 failed, 2 not processed');
  });

  it('names the output and leaves no temporary file when writing the result fails', async () => {
    const file = path.join(dir, 'batch-in', 'w.jpg');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, 'w');
    const outDir = path.join(dir, 'write-fails');
    await fs.mkdir(path.join(outDir, 'w.png'), { recursive: true }); // a folder where the result should go
    const stream = new Capture();
    const result = await processImages({ files: [file], outDir, stream, run: async (b) => fakeResult(b) });
    expect(result.failed[0]?.message).toMatch(/^cannot write .*w\.png: is a folder$/);
    expect(await fs.readdir(outDir)).toEqual(['w.png']);
  });
});

describe('runInferCommand', () => {
  it('refuses an --out that is a file as a usage error, before loading any model', async () => {
    const file = path.join(dir, 'not-a-folder');
    await fs.writeFile(file, 'x');
    await expect(runInferCommand('upscale', ['--scale', '2', file, '--out', file])).rejects.toThrow(
      new UsageError(`--out ${file} is a file, not a folder`),
    );
    await expect(runInferCommand('colorize', [file, '--out', path.join(file, 'sub')])).rejects.toThrow(/part of this path is a file/);
    const stderr = new Capture();
    const previous = process.exitCode;
    try {
      expect(await runCli({ name: 'colorize', usage: 'Usage', argv: [file, '--out', file], stderr }, (argv) => runInferCommand('colorize', argv))).toBe(2);
    } finally {
      process.exitCode = previous;
    }
    expect(stderr.text).toContain('is a file, not a folder');
  });

  // /sys refuses new files and folders even to root (EACCES / EPERM, or EROFS where it is mounted read-only).
  const sysRefusesWrites = process.platform === 'linux' && (() => {
    try {
      execFileSync('touch', ['/sys/.pix2pix-write-test'], { stdio: 'ignore' });
      execFileSync('rm', ['-f', '/sys/.pix2pix-write-test']);
      return false;
    } catch {
      return true;
    }
  })();

  it.skipIf(!sysRefusesWrites)('refuses an --out it cannot write to or create as a usage error, before loading any model', async () => {
    const input = path.join(dir, 'out-check.png');
    await fs.writeFile(input, 'x');
    // The reason as the system gives it, without the probe file's path.
    const refused = runInferCommand('upscale', ['--scale', '2', input, '--out', '/sys']);
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(/^--out \/sys is not writable \((permission denied|read-only file system|operation not permitted)\)$/);
    await expect(runInferCommand('colorize', [input, '--out', '/sys/pix2pix-out/sub'])).rejects.toThrow(
      /^--out \/sys\/pix2pix-out\/sub is not writable \(cannot create the folder: /,
    );
    const stderr = new Capture();
    const previous = process.exitCode;
    try {
      expect(await runCli({ name: 'colorize', usage: 'Usage', argv: [input, '--out', '/sys'], stderr }, (argv) => runInferCommand('colorize', argv, { stderr }))).toBe(2);
    } finally {
      process.exitCode = previous;
    }
    expect(stderr.text.split('\n')[0]).toMatch(/^colorize: --out \/sys is not writable \(/);
  });

  it.skipIf(process.platform !== 'linux')('refuses an --out under /proc at once (Node\'s recursive mkdir never settles there)', async () => {
    const input = path.join(dir, 'out-proc.png');
    await fs.writeFile(input, 'x');
    const refused = runInferCommand('colorize', [input, '--out', '/proc/pix2pix-out/sub']);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000).unref());
    const outcome = await Promise.race([refused.then(() => 'ran', (error: Error) => error), timeout]);
    expect(outcome).toBeInstanceOf(UsageError);
    expect((outcome as Error).message).toMatch(/^--out \/proc\/pix2pix-out\/sub is not writable \(cannot create the folder: /);
  });

  it('creates a missing --out (nested) and leaves nothing in it but what the batch writes', async () => {
    const out = path.join(dir, 'made', 'by', 'check');
    await checkOutDir(out);
    expect(await fs.readdir(out)).toEqual([]);
    await checkOutDir(out);
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('checks an explicit --model against the command before looking for images', async () => {
    // metadata.json alone: the kind is read from it before any weights would be loaded.
    const colorizer = path.join(dir, 'colorize-model');
    await fs.mkdir(colorizer, { recursive: true });
    await fs.writeFile(path.join(colorizer, 'metadata.json'), JSON.stringify(testMetadata({ task: 'colorize', scale: 1 })));
    const sr2 = path.join(dir, 'sr2-model');
    await fs.mkdir(sr2, { recursive: true });
    await fs.writeFile(path.join(sr2, 'metadata.json'), JSON.stringify(testMetadata({ task: 'sr', scale: 2 })));
    const missingInput = path.join(dir, 'nonexist.jpg');
    const out = path.join(dir, 'model-kind-out');
    await expect(runInferCommand('upscale', ['--scale', '2', missingInput, '--out', out, '--model', colorizer])).rejects.toThrow(
      new UsageError(`--model ${colorizer} is a colorize model, not super-resolution x2`),
    );
    await expect(runInferCommand('upscale', ['--scale', '4', missingInput, '--out', out, '--model', sr2])).rejects.toThrow(
      new UsageError(`--model ${sr2} is a super-resolution x2 model, not super-resolution x4`),
    );
    await expect(runInferCommand('colorize', [missingInput, '--out', out, '--model', path.join(dir, 'no-model')])).rejects.toThrow(
      new UsageError(`--model ${path.join(dir, 'no-model')}: no such folder`),
    );
  });

  it('names a --model that cannot be loaded once, in one line, without a warning besides', async () => {
    const input = path.join(dir, 'model-input.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toFile(input);
    const empty = path.join(dir, 'empty-model');
    await fs.mkdir(empty, { recursive: true });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const stderr = new Capture();
    const previous = process.exitCode;
    try {
      const argv = ['--scale', '2', input, '--out', path.join(dir, 'model-out'), '--model', empty, '--backend', 'cpu'];
      expect(await runCli({ name: 'upscale', usage: 'Usage', argv, stderr }, (a) => runInferCommand('upscale', a, { stderr }))).toBe(2);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      process.exitCode = previous;
    }
    expect(stderr.text).toBe(`upscale: --model ${empty}: not an exported model folder (it has no metadata.json)\n\nUsage\n`);
  });
});

describe('cliPixelLimits', () => {
  it('takes MAX_INPUT_PIXELS / MAX_OUTPUT_PIXELS when set and no limit of its own otherwise (the service caps what cannot be written)', () => {
    // sharp's default limitInputPixels, which it also applies to the raw pixels encodePng hands it.
    expect(MAX_RESULT_PIXELS).toBe(16383 * 16383);
    // The result's RGBA copy (width * height * 4 bytes) must fit in one typed array.
    expect(MAX_RESULT_PIXELS * 4).toBeLessThanOrEqual(2 ** 32);
    expect(cliPixelLimits({})).toEqual({ maxInputPixels: Infinity, maxOutputPixels: Infinity });
    expect(cliPixelLimits({ MAX_OUTPUT_PIXELS: '16MP', MAX_INPUT_PIXELS: ' ' })).toEqual({ maxInputPixels: Infinity, maxOutputPixels: 16_000_000 });
    expect(cliPixelLimits({ MAX_INPUT_PIXELS: '2_000_000', MAX_OUTPUT_PIXELS: '1G' })).toEqual({ maxInputPixels: 2_000_000, maxOutputPixels: 1_000_000_000 });
    expect(() => cliPixelLimits({ MAX_OUTPUT_PIXELS: 'lots' })).toThrow(/^MAX_OUTPUT_PIXELS="lots" is not valid/);
  });
});

describe('shellWord', () => {
  it('leaves plain words alone and quotes the rest so that a shell reads back the same string', () => {
    expect(shellWord('/work/runs/x4-g8x-f')).toBe('/work/runs/x4-g8x-f');
    for (const value of ['/tmp/my runs', "it's", 'a$b', '*', '', 'x;rm -rf y', 'tab\there']) {
      expect(execFileSync('bash', ['-c', `printf %s ${shellWord(value)}`], { encoding: 'utf8' })).toBe(value);
    }
  });
});
