// A tiny in-memory ImageDataset for tests of training logic (the real pipeline is tested in test/data).
// Each image is a class-dependent pattern plus per-image noise, so a small model can learn it. With
// `augmented`, every (epoch, index) gets its own deterministic noise and flip, like a real augmenter.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Batch, ImageDataset, LabelMode } from '../../lib/data/types';
import { rngFor, shuffled } from '../../lib/rng';
import { kerasBatchNormalization } from '../../lib/models/batchnorm';

export interface FakeDatasetOptions {
  n?: number;
  classes?: number;
  size?: [number, number];
  batchSize?: number;
  augmented?: boolean;
  shuffle?: boolean;
  seed?: number;
  labelMode?: LabelMode;
  /** Write one small file per image here so file keys (path, size, mtime) are real. */
  fileDir?: string;
  /** Part of cacheKey (change it to simulate other preprocessing). */
  keySalt?: string;
}

export interface FakeDataset extends ImageDataset {
  /** Images loaded so far (to see what a cache avoided). */
  loaded: number;
}

const rand = rngFor;

export function fakeDataset(o: FakeDatasetOptions = {}): FakeDataset {
  const n = o.n ?? 24;
  const classes = o.classes ?? 3;
  const [h, w] = o.size ?? [8, 8];
  const batchSize = o.batchSize ?? 8;
  const augmented = o.augmented ?? false;
  const shuffle = o.shuffle ?? false;
  const seed = o.seed ?? 1;
  const labelMode = o.labelMode === undefined ? 'int' : o.labelMode;
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  const files = Array.from({ length: n }, (_, i) =>
    o.fileDir ? path.join(o.fileDir, `img${i}.bin`) : `/virtual/fake/img${i}.png`,
  );
  if (o.fileDir) {
    fs.mkdirSync(o.fileDir, { recursive: true });
    files.forEach((f, i) => fs.existsSync(f) || fs.writeFileSync(f, `image ${i}`));
  }

  function pixels(i: number, epoch: number | undefined): Float32Array {
    const c = labels[i];
    const r = rand(seed, i);
    const a = augmented && epoch !== undefined ? rand(seed, i, epoch + 1000) : null;
    const flip = a ? a() < 0.5 : false;
    const out = new Float32Array(h * w * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < 3; ch++) {
          const xx = flip ? w - 1 - x : x;
          const pattern =
            Math.sin((c + 1) * (xx + 1) * 0.7 + ch) * Math.cos((c + 1) * (y + 1) * 0.3);
          out[(y * w + x) * 3 + ch] = pattern + 0.3 * (r() - 0.5) + (a ? 0.2 * (a() - 0.5) : 0);
        }
    return out;
  }

  const ds: FakeDataset = {
    loaded: 0,
    classNames: Array.from({ length: classes }, (_, c) => `class${c}`),
    files,
    labels,
    size: n,
    batchSize,
    imageSize: [h, w],
    labelMode,
    numBatches: Math.ceil(n / batchSize),
    augmented,
    cacheKey: `fake|${h}x${w}|seed${seed}|aug${augmented}|${o.keySalt ?? ''}`,
    async load(indices: number[], opts: { epoch?: number } = {}): Promise<Batch> {
      ds.loaded += indices.length;
      const buf = new Float32Array(indices.length * h * w * 3);
      indices.forEach((i, j) => buf.set(pixels(i, opts.epoch), j * h * w * 3));
      const lab = indices.map((i) => labels[i]);
      const ys =
        labelMode === 'int'
          ? tf.tensor1d(lab, 'int32')
          : labelMode === 'categorical'
            ? tf.oneHot(tf.tensor1d(lab, 'int32'), classes).toFloat()
            : undefined;
      return { xs: tf.tensor4d(buf, [indices.length, h, w, 3]), ys, labels: lab, indices };
    },
    async *batches(opts: { epoch?: number } = {}) {
      const epoch = opts.epoch ?? 0;
      const all = Array.from({ length: n }, (_, i) => i);
      const order = shuffle ? shuffled(all, rand(seed, epoch, 77)) : all;
      for (let s = 0; s < n; s += batchSize)
        yield ds.load(order.slice(s, s + batchSize), augmented ? { epoch } : {});
    },
    withoutAugmentation() {
      return fakeDataset({ ...o, augmented: false, shuffle: false });
    },
  };
  return ds;
}

/** A tiny frozen-able "base": conv → pool → conv, named like Keras blocks. */
/** batchNorm: tfjs' layer; 'keras': lib/models' Keras-semantics layer with scale=false, as in InceptionV3. */
export function tinyBase(
  opts: { size?: [number, number]; seed?: number; batchNorm?: boolean | 'keras' } = {},
): tf.LayersModel {
  const [h, w] = opts.size ?? [8, 8];
  const seed = opts.seed ?? 3;
  const input = tf.input({ shape: [h, w, 3], name: 'input_1' });
  let x = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'block1_conv1',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'block1_pool' }).apply(x) as tf.SymbolicTensor;
  if (opts.batchNorm === 'keras')
    x = kerasBatchNormalization({ name: 'block1_bn', scale: false, epsilon: 1e-3 }).apply(
      x,
    ) as tf.SymbolicTensor;
  else if (opts.batchNorm)
    x = tf.layers.batchNormalization({ name: 'block1_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'block2_conv1',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'block2_pool' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'tiny_base' });
}

/** Make every layer's weights deterministic (head layers get glorot with random seeds otherwise). */
export function setDeterministicWeights(model: tf.LayersModel, seed = 5): void {
  const r = rand(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const isVar = /moving_variance/.test(w.name);
    return tf.tensor(
      Float32Array.from({ length: size }, () => (isVar ? 1 : (r() - 0.5) * 0.6)),
      shape,
    );
  });
  model.setWeights(values);
  tf.dispose(values);
}
