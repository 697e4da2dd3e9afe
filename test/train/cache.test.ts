// Cached features: same training result as running the frozen base, reuse across runs, invalidation.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { buildHead } from '../../lib/train/heads';
import { compile, adam, sgd } from '../../lib/train/compile';
import { trainPhase, evaluateMetrics } from '../../lib/train/loop';
import { cachedFeatures, clearFeatureMemory, frozenBoundary } from '../../lib/train/cache';
import { freeze } from '../../lib/models/freeze';
import { withPreprocessing } from '../../lib/models/with-preprocessing';
import { freezeAll } from './util';
import { fakeDataset, tinyBase, setDeterministicWeights } from './fake-dataset';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

function headModel(seed = 5, batchNorm: boolean | 'keras' = false) {
  const base = tinyBase({ batchNorm });
  const model = buildHead(base, [
    { type: 'flatten' },
    { type: 'dense', units: 8, activation: 'relu', l2: 1e-3 },
    { type: 'output', classes: 3 },
  ]);
  setDeterministicWeights(model, seed);
  return { base, model };
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

for (const bn of [true, 'keras'] as const)
  test(`head trained on cached features equals head trained through the frozen base (${bn === true ? 'tfjs' : 'Keras, scale=false'} BatchNormalization)`, async () => {
    const train = fakeDataset({ n: 20, batchSize: 6 });
    const val = fakeDataset({ n: 9, batchSize: 6, seed: 2 });
    const a = headModel(5, bn);
    const b = headModel(5, bn);
    for (const m of [a, b]) {
      freezeAll(m.base);
      compile(m.model, {
        optimizer: adam({ learningRate: 0.01 }),
        loss: 'sparseCategoricalCrossentropy',
        labelSmoothing: 0.1,
        metrics: ['accuracy'],
      });
    }
    const ha = await trainPhase({ model: a.model, train, validation: val, epochs: 4, verbose: 0 });
    const trainCache = await cachedFeatures(b.model, train, { dir: null, shuffle: false });
    const valCache = await cachedFeatures(b.model, val, { dir: null, shuffle: false });
    assert.equal(trainCache.boundary, 'block2_pool');
    const hb = await trainPhase({
      model: b.model,
      train: trainCache,
      validation: valCache,
      epochs: 4,
      verbose: 0,
    });
    const d = maxDiff(weightsOf(a.model), weightsOf(b.model));
    assert.ok(d < 1e-5, `weights differ by ${d}`);
    ha.epochs.forEach((e, i) => {
      for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) {
        assert.ok(
          Math.abs(e.metrics[k] - hb.epochs[i].metrics[k]) < 1e-5,
          `epoch ${i} ${k}: ${e.metrics[k]} vs ${hb.epochs[i].metrics[k]}`,
        );
      }
    });
    // The loss went down, so the comparison is not between two untrained models.
    assert.ok(ha.epochs[3].metrics.loss < ha.epochs[0].metrics.loss);
  });

test('K augmentation draws are computed once, then reused from memory; a new cache object finds them on disk', async () => {
  clearFeatureMemory();
  const dir = tmpDir('feat-');
  const train = fakeDataset({ n: 10, batchSize: 4, augmented: true, shuffle: true });
  const { base, model } = headModel();
  freezeAll(base);
  compile(model, { optimizer: sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
  const cache = await cachedFeatures(model, train, { dir, drawsPerImage: 2 });
  await trainPhase({ model, train: cache, epochs: 5, verbose: 0 });
  assert.equal(train.loaded, 20, 'two draws of 10 images loaded once each');
  assert.equal(cache.stats.computed, 20);
  assert.equal(cache.stats.fromMemory, 30);
  // Draw 0 and draw 1 differ (augmentation really cached per draw).
  const e0 = (await first(cache.batches({ epoch: 0 }))) as tf.Tensor;
  const e1 = (await first(cache.batches({ epoch: 1 }))) as tf.Tensor;
  const e2 = (await first(cache.batches({ epoch: 2 }))) as tf.Tensor;
  assert.notDeepEqual(Array.from(e0.dataSync()), Array.from(e1.dataSync()));
  tf.dispose([e0, e1, e2]);

  clearFeatureMemory();
  // The notebook re-runs the head cell with another dropout: a new head on the same frozen base.
  const head2 = buildHead(base, [
    { type: 'flatten' },
    { type: 'dropout', rate: 0.3 },
    { type: 'output', classes: 3 },
  ]);
  compile(head2, {
    optimizer: adam({ learningRate: 1e-3 }),
    loss: 'sparseCategoricalCrossentropy',
  });
  const again2 = await cachedFeatures(head2, train, { dir, drawsPerImage: 2 });
  await trainPhase({ model: head2, train: again2, epochs: 2, verbose: 0 });
  assert.equal(train.loaded, 20, 'a re-run with another head loads no image');
  assert.equal(again2.stats.computed, 0);
  assert.equal(again2.stats.fromDisk, 20);
});

test('precompute computes every draw up front and reports each through the progress reporter', async (t) => {
  clearFeatureMemory();
  const train = fakeDataset({ n: 10, batchSize: 4, augmented: true });
  const { base, model } = headModel();
  freezeAll(base);
  const cache = await cachedFeatures(model, train, { dir: null, drawsPerImage: 2 });
  const lines: string[] = [];
  t.mock.method(console, 'log', (s: string) => {
    lines.push(s);
  });
  await cache.precompute();
  t.mock.restoreAll();
  assert.equal(cache.stats.computed, 20);
  assert.equal(train.loaded, 20);
  for (const d of [1, 2]) {
    const label = `features at "${cache.boundary}", draw ${d}/2`;
    assert.ok(lines.includes(`${label}: 10/10 images (100%)`), lines.join('\n'));
    assert.ok(
      lines.some((l) => l.startsWith(`${label}: ready (10 images, `)),
      lines.join('\n'),
    );
  }
});

async function first(it: AsyncIterable<{ xs: tf.Tensor }>): Promise<tf.Tensor> {
  for await (const b of it) return b.xs;
  throw new Error('empty');
}

test('the cache is invalidated by base weights, dataset cacheKey and image files', async () => {
  clearFeatureMemory();
  const dir = tmpDir('feat-');
  const files = tmpDir('img-');
  const train = fakeDataset({ n: 6, batchSize: 3, fileDir: files });
  const { base, model } = headModel();
  freezeAll(base);
  const c1 = await cachedFeatures(model, train, { dir, shuffle: false });
  for await (const b of c1.batches()) b.xs.dispose();
  assert.equal(c1.stats.computed, 6);

  // Same everything: all reused.
  const c2 = await cachedFeatures(base, train, { dir, shuffle: false });
  for await (const b of c2.batches()) b.xs.dispose();
  assert.equal(c2.stats.computed, 0);
  assert.equal(c2.weightsKey, c1.weightsKey);

  // One image file changes: only it is recomputed.
  const f = train.files[2];
  fs.writeFileSync(f, 'a different image, longer');
  const c3 = await cachedFeatures(model, train, { dir, shuffle: false });
  for await (const b of c3.batches()) b.xs.dispose();
  assert.equal(c3.stats.computed, 1);

  // Other preprocessing (dataset cacheKey): everything recomputed, in another folder.
  const other = fakeDataset({ n: 6, batchSize: 3, fileDir: files, keySalt: 'tf-mode' });
  const c4 = await cachedFeatures(model, other, { dir, shuffle: false });
  for await (const b of c4.batches()) b.xs.dispose();
  assert.equal(c4.stats.computed, 6);
  assert.notEqual(c4.dir, c1.dir);

  // A base weight changes: new fingerprint; the old cache refuses to train this model.
  const k = base.getLayer('block1_conv1').getWeights();
  const changed = k.map((t) => tf.add(t, 0.01));
  base.getLayer('block1_conv1').setWeights(changed);
  tf.dispose(changed);
  compile(model, { optimizer: adam(), loss: 'sparseCategoricalCrossentropy' });
  await assert.rejects(trainPhase({ model, train: c1, epochs: 1, verbose: 0 }), /other weights/);
  const c5 = await cachedFeatures(model, train, { dir, shuffle: false });
  assert.notEqual(c5.weightsKey, c1.weightsKey);
  for await (const b of c5.batches()) b.xs.dispose();
  assert.equal(c5.stats.computed, 6);
  assert.ok(fs.readdirSync(dir).length >= 2);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(files, { recursive: true, force: true });
});

test('block-boundary cache: fine-tuning the top block on cached block1 features equals running the whole model', async () => {
  const train = fakeDataset({ n: 12, batchSize: 4 });
  const a = headModel(7);
  const b = headModel(7);
  for (const m of [a, b]) {
    freezeAll(m.base);
    m.base.getLayer('block2_conv1').trainable = true; // fine-tune block 2 + head
    compile(m.model, {
      optimizer: sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true }),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
  }
  await trainPhase({ model: a.model, train, epochs: 3, verbose: 0 });
  const cache = await cachedFeatures(b.model, train, {
    layer: 'block1_pool',
    dir: null,
    shuffle: false,
  });
  assert.deepEqual(cache.featureShape, [4, 4, 4]);
  await trainPhase({ model: b.model, train: cache, epochs: 3, verbose: 0 });
  const d = maxDiff(weightsOf(a.model), weightsOf(b.model));
  assert.ok(d < 1e-5, `weights differ by ${d}`);
  // The conv weights of block 2 did change (it trained), and evaluation on cache matches images.
  const ea = await evaluateMetrics(a.model, train, { verbose: 0 });
  const eb = await evaluateMetrics(b.model, cache, { verbose: 0 });
  assert.ok(Math.abs(ea.loss - eb.loss) < 1e-5);
});

test('training on a cache whose bottom is trainable is refused with a fix', async () => {
  const train = fakeDataset({ n: 6, batchSize: 3 });
  const { model } = headModel();
  const cache = await cachedFeatures(model, train, { dir: null });
  compile(model, { optimizer: adam(), loss: 'sparseCategoricalCrossentropy' });
  await assert.rejects(
    trainPhase({ model, train: cache, epochs: 1, verbose: 0 }),
    /before it are trainable.*Freeze/,
  );
});

test('a base nested as one layer (Keras: x = base(inputs, training=False)) trains and caches at its output', async () => {
  const train = fakeDataset({ n: 12, batchSize: 4 });
  const make = () => {
    const base = tinyBase({ batchNorm: true });
    const inputs = tf.input({ shape: [8, 8, 3] });
    let x = base.apply(inputs, { training: false }) as tf.SymbolicTensor;
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs, outputs: out });
    setDeterministicWeights(model, 9);
    base.trainable = false;
    compile(model, {
      optimizer: adam({ learningRate: 0.01 }),
      loss: 'sparseCategoricalCrossentropy',
    });
    return model;
  };
  const a = make();
  const b = make();
  const bnBefore = a
    .getLayer('tiny_base')
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
  await trainPhase({ model: a, train, epochs: 2, verbose: 0 });
  assert.deepEqual(
    a
      .getLayer('tiny_base')
      .getWeights()
      .map((w) => Array.from(w.dataSync())),
    bnBefore,
    'frozen nested base untouched (BN statistics too)',
  );
  const cache = await cachedFeatures(b, train, { layer: 'tiny_base', dir: null, shuffle: false });
  await trainPhase({ model: b, train: cache, epochs: 2, verbose: 0 });
  assert.ok(maxDiff(weightsOf(a), weightsOf(b)) < 1e-5);
});

test('without layer:, features are cached at the end of the frozen layers', async () => {
  const train = fakeDataset({ n: 6, batchSize: 3 });
  const at = async (model: tf.LayersModel) =>
    (await cachedFeatures(model, train, { dir: null })).boundary;

  // Keras' model.layers[:3] frozen (input_1, block1_conv1, block1_pool): layer 2, and training accepts it.
  const a = headModel();
  freeze(a.model, { upTo: 3 });
  assert.equal(frozenBoundary(a.model), 'block1_pool');
  const cache = await cachedFeatures(a.model, train, { dir: null });
  assert.equal(cache.boundary, 'block1_pool');
  compile(a.model, { optimizer: adam(), loss: 'sparseCategoricalCrossentropy' });
  await trainPhase({ model: a.model, train: cache, epochs: 1, verbose: 0 });

  // The whole base frozen: where buildHead attached the head, as before; a frozen head does not move it.
  const b = headModel();
  freezeAll(b.base);
  assert.equal(await at(b.model), 'block2_pool');
  freezeAll(b.model);
  assert.equal(await at(b.model), 'block2_pool');

  // preprocess_input inside the model (no weights, left trainable) does not end the frozen run.
  const base = tinyBase();
  freeze(base, { upTo: 3 });
  const withPre = buildHead(withPreprocessing(base, 'tf'), [
    { type: 'flatten' },
    { type: 'output', classes: 3 },
  ]);
  assert.equal(withPre.layers[1].getClassName(), 'PreprocessInput');
  assert.equal(await at(withPre), 'block1_pool');

  // Nothing frozen: where buildHead attached the head (trainPhase then asks to freeze).
  assert.equal(frozenBoundary(headModel().model), undefined);
  assert.equal(await at(headModel().model), 'block2_pool');
});

test('a frozen run that ends where the model cannot be split asks for a block boundary', async () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const c1 = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c1' })
    .apply(input) as tf.SymbolicTensor;
  const c2 = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c2' })
    .apply(c1) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'residual' }).apply([c1, c2]) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(sum) as tf.SymbolicTensor;
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor,
  });
  freeze(model, { upTo: 3 }); // input, c1, c2: c1's output also reaches the sum
  await assert.rejects(
    cachedFeatures(model, fakeDataset({ n: 3, batchSize: 3 }), { dir: null }),
    /end at "c2", where the model cannot be split.*block boundary/,
  );
  freeze(model, { upTo: 4 }); // through the sum: a clean cut
  assert.equal(
    (await cachedFeatures(model, fakeDataset({ n: 3, batchSize: 3 }), { dir: null })).boundary,
    'residual',
  );
});

test("an image the dataset leaves out (onCorrupt: 'skip') is left out of the cached batches, the rest stay aligned", async () => {
  clearFeatureMemory();
  const ds = fakeDataset({ n: 10, batchSize: 4 });
  // As onCorrupt: 'skip' does: a batch holds only the images that could be decoded (index 3 cannot).
  const load = ds.load.bind(ds);
  ds.load = (indices, o) =>
    load(
      indices.filter((i) => i !== 3),
      o,
    );
  const { base, model } = headModel();
  freezeAll(base);
  const cache = await cachedFeatures(model, ds, { dir: null, shuffle: false });
  const seen: number[] = [];
  for await (const b of cache.batches()) {
    assert.deepEqual(
      b.labels,
      b.indices.map((i) => ds.labels[i]),
    );
    assert.equal(b.xs.shape[0], b.indices.length);
    seen.push(...b.indices);
    // Each row is that image's own features (computed alone, through the same bottom part).
    const alone = await cachedFeatures(model, ds, { dir: null, shuffle: false });
    for (const [j, i] of b.indices.entries()) {
      const row = b.xs.slice([j], [1]);
      const single = await rowOf(alone, i);
      assert.deepEqual(Array.from(row.dataSync()), Array.from(single.dataSync()), `image ${i}`);
      tf.dispose([row, single]);
    }
    tf.dispose([b.xs]);
  }
  assert.deepEqual(seen, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
});

/** Image i's row in a cached feature set's batches. */
async function rowOf(
  cache: Awaited<ReturnType<typeof cachedFeatures>>,
  i: number,
): Promise<tf.Tensor> {
  for await (const b of cache.batches()) {
    const j = b.indices.indexOf(i);
    const row = j >= 0 ? b.xs.slice([j], [1]) : null;
    b.xs.dispose();
    if (row) return row;
  }
  throw new Error(`image ${i} is in no batch`);
}
