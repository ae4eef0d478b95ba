// `layerhive train --data <image folder>` through the built CLI (run `npm run build` first, as `npm test` does).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../../src/data/idx-file.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { ends } from '../cli/run-cli.js';
import { writeDigits } from './image-files.js';

const tmp = join(import.meta.dirname, '../../../.tmp/data-image-folder-cli');
const dir = join(tmp, 'digits');
/** Longest one command may run before it counts as hung. */
const LIMIT_S = 120;

let trainPaths: string[];
beforeAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  const m = await loadMnist();
  // the first 1 000 training and 500 test digits of MNIST, as grey PNGs in train/<digit>/ and test/<digit>/
  trainPaths = await writeDigits(dir, 'train', m.train.images, m.train.labels, 1000);
  await writeDigits(dir, 'test', m.test.images, m.test.labels, 500);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('layerhive train --data <image folder>', () => {
  it('trains on 1 000 MNIST PNGs and reaches the accuracy measured for one epoch', {
    tags: ['behaviour'],
  }, async () => {
    const report = join(tmp, 'report.json');
    const r = await ends(
      LIMIT_S,
      'train',
      '--data',
      dir,
      '--rule',
      'backprop',
      '--epochs',
      '1',
      '--limit',
      '1000',
      '--no-progress',
      '--report',
      report,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('10 classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 1000 training and 500 test images');
    const rep = JSON.parse(await readFile(report, 'utf8'));
    expect(rep.class_names).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    console.log(`image folder, backprop MLP, 1 epoch on 1 000 PNGs: test accuracy ${rep.test_accuracy}`);
    // measured 0.798 on the 500 test PNGs (this command, `npm run build` then vitest on the 2-core CPU machine, wasm
    // backend, seed 0; deterministic run to run); `--data mnist --limit 1000` gives 0.8256 on all 10 000 test digits
    expect(rep.test_accuracy).toBeGreaterThan(0.75);
  });

  it('resizes to --image-size with --channels 3, records the class names in the checkpoint, resumes alike', {
    tags: ['behaviour'],
  }, async () => {
    const out = join(tmp, 'ckpt');
    const r = await ends(
      LIMIT_S,
      'train',
      '--data',
      dir,
      '--rule',
      'backprop',
      '--limit',
      '200',
      '--no-progress',
      '--image-size',
      '14',
      '--channels',
      '3',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('RGB 14×14');
    const { store, name } = FsCheckpointStore.at(out);
    const saved = await store.load(name);
    expect(saved.config.inputShape).toEqual([3, 14, 14]);
    expect(saved.meta.run).toMatchObject({
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      images: { imageSize: 14, channels: 3 },
    });
    // --resume reads the folder as the run did (14×14 RGB) without the options being repeated
    const again = await ends(LIMIT_S, 'train', '--resume', out, '--epochs', '2', '--no-progress');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('RGB 14×14');
    expect(again.stdout).toMatch(/epoch 2: train loss/);
  });

  it('fails on a corrupt image naming it, and with --skip-bad-images goes on and prints the count', {
    tags: ['behaviour'],
  }, async () => {
    const bad = trainPaths[3];
    await writeFile(bad, 'this is not a PNG any more');
    const failed = await ends(LIMIT_S, 'train', '--data', dir, '--rule', 'backprop', '--limit', '64', '--no-progress');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${bad} is not a readable image`);
    expect(failed.stderr).toContain('--skip-bad-images');
    const ok = await ends(
      LIMIT_S,
      'train',
      '--data',
      dir,
      '--rule',
      'backprop',
      '--limit',
      '64',
      '--no-progress',
      '--skip-bad-images',
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('skipped 1 unreadable image(s):');
    expect(ok.stderr).toContain('999 training and 500 test images');
  });

  it('refuses image options for data that is not an image folder', { tags: ['behaviour'] }, async () => {
    const r = await ends(LIMIT_S, 'train', '--data', 'mnist', '--channels', '3', '--limit', '64', '--no-progress');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /--image-size, --channels and --skip-bad-images apply to an image folder, and mnist is not one/,
    );
    const c = await ends(LIMIT_S, 'train', '--data', dir, '--channels', '2');
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain('--channels must be 1 (grey) or 3 (RGB)');
  });
});
