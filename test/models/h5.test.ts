// Keras HDF5 weights: files in Keras' layout load by order and by name; mismatches explain themselves.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { KerasBatchNormalization } from '../../lib/models/batchnorm';
import {
  loadKerasWeights,
  saveKerasWeights,
  readKerasWeights,
  h5wasm as h5wasmForTests,
} from '../../lib/models/h5';
import { resnet50 } from '../../lib/models/applications/resnet50';
import { randomWeightsNotice, weightsOrigins } from '../../lib/models/origin';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

/** conv -> BN -> relu -> GAP -> dense, with names given by `names`. */
function small(names: string[], filters = 4, seed = 0) {
  const input = tf.input({ shape: [8, 8, 3], name: names[0] });
  let x = tf.layers
    .conv2d({
      filters,
      kernelSize: 3,
      name: names[1],
      kernelInitializer: tf.initializers.randomNormal({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  x = new KerasBatchNormalization({ name: names[2] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: names[3] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: names[4] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({
      units: 2,
      name: names[5],
      kernelInitializer: tf.initializers.randomNormal({ seed: seed + 1 }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}
const KERAS_OLD = [
  'input_1',
  'conv2d_1',
  'batch_normalization_1',
  'activation_1',
  'global_average_pooling2d_1',
  'dense_1',
];
const KERAS_NEW = [
  'input_1',
  'conv2d',
  'batch_normalization',
  'activation',
  'global_average_pooling2d',
  'dense',
];

function randomizeBn(m: tf.LayersModel, seed: number) {
  const bn = m.layers.find((l) => l instanceof KerasBatchNormalization)!;
  bn.setWeights(
    bn.weights.map((w, i) => tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i)),
  );
}
const allWeights = (m: tf.LayersModel) =>
  m.layers.flatMap((l) => l.weights.map((w) => Array.from(w.read().dataSync())));
const probe = () => tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 99);

test('a file in Keras layout (layer_names split into layer_names0..N) loads by order into differently named layers', async () => {
  const dir = tmpDir('h5-');
  const src = small(KERAS_OLD, 4, 1);
  randomizeBn(src, 10);
  const file = path.join(dir, 'weights.h5');
  await saveKerasWeights(src, file, { chunkLayerNames: 4 });
  const h5 = await h5wasmForTests();
  const f = new h5.File(file, 'r');
  assert.deepEqual(
    Object.keys(f.attrs)
      .filter((k) => k.startsWith('layer_names'))
      .sort(),
    ['layer_names0', 'layer_names1'],
  );
  const group = f.get('conv2d_1') as unknown as { attrs: Record<string, { value: unknown }> };
  assert.deepEqual(group.attrs['weight_names'].value, ['conv2d_1/kernel:0', 'conv2d_1/bias:0']);
  f.close();

  const read = await readKerasWeights(file);
  assert.deepEqual(
    read.layers.map((l) => l.name),
    KERAS_OLD,
  );
  assert.deepEqual(
    read.layers[2].weights.map((w) => w.name),
    [
      'batch_normalization_1/gamma:0',
      'batch_normalization_1/beta:0',
      'batch_normalization_1/moving_mean:0',
      'batch_normalization_1/moving_variance:0',
    ],
  );

  const dst = small(KERAS_NEW, 4, 2);
  assert.notDeepEqual(allWeights(dst), allWeights(src));
  const report = await loadKerasWeights(dst, file);
  assert.deepEqual(report.loaded, ['conv2d', 'batch_normalization', 'dense']);
  assert.deepEqual(allWeights(dst), allWeights(src));
  const x = probe();
  assert.deepEqual(
    Array.from((dst.predict(x) as tf.Tensor).dataSync()),
    Array.from((src.predict(x) as tf.Tensor).dataSync()),
  );
});

test('by name: matching layers load, others are reported missing; by order with other layer counts fails', async () => {
  const dir = tmpDir('h5-');
  const src = small(KERAS_NEW, 4, 3);
  const file = path.join(dir, 'w.h5');
  await saveKerasWeights(src, file);
  // Same names for conv and dense, another name for BN.
  const dst = small(['input_1', 'conv2d', 'bn_other', 'activation', 'gap', 'dense'], 4, 4);
  const report = await loadKerasWeights(dst, file, { byName: true });
  assert.deepEqual(report.loaded, ['conv2d', 'dense']);
  assert.deepEqual(report.missing, ['bn_other']);
  assert.deepEqual(
    Array.from(dst.getLayer('dense').weights[0].read().dataSync()),
    Array.from(src.getLayer('dense').weights[0].read().dataSync()),
  );

  const bigger = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 2 }), tf.layers.dense({ units: 2 })],
  });
  await assert.rejects(
    loadKerasWeights(bigger, file),
    (e: Error) =>
      /has weights for 3 layers/.test(e.message) &&
      /2 layers with weights/.test(e.message) &&
      e.message.includes(file),
  );
});

test('shape mismatch: the error names the layer, the file and both shapes; skipMismatch skips it', async () => {
  const dir = tmpDir('h5-');
  const file = path.join(dir, 'w.h5');
  await saveKerasWeights(small(KERAS_NEW, 4, 5), file);
  const dst = small(KERAS_NEW, 6, 6); // 6 filters instead of 4
  await assert.rejects(loadKerasWeights(dst, file), (e: Error) => {
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, /"conv2d"/);
    assert.match(e.message, /\[3, 3, 3, 6\]/);
    assert.match(e.message, /\[3, 3, 3, 4\]/);
    assert.match(e.message, /skipMismatch/);
    return true;
  });
  const report = await loadKerasWeights(dst, file, { byName: true, skipMismatch: true });
  assert.deepEqual(
    report.skipped.map((s) => s.layer),
    ['conv2d', 'batch_normalization', 'dense'],
  );
});

test("ResNet50 (32x32) round trip through a Keras-layout file via weights: '<path.h5>'", async () => {
  const dir = tmpDir('h5-');
  const src = await resnet50({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  const file = path.join(dir, 'resnet50_notop.h5');
  await saveKerasWeights(src, file);
  const dst = await resnet50({ includeTop: false, weights: file, inputShape: [32, 32, 3] });
  for (const name of [
    'conv1_conv',
    'conv2_block1_0_conv',
    'conv2_block1_3_conv',
    'conv5_block3_3_bn',
  ]) {
    const a = src.getLayer(name).weights,
      b = dst.getLayer(name).weights;
    a.forEach((w, i) =>
      assert.deepEqual(b[i].read().dataSync(), w.read().dataSync(), `${name} weight ${i}`),
    );
  }
  // Displays flag the random base, and a head model built on it, but not the loaded one.
  const head = tf.layers
    .dense({ units: 2 })
    .apply(tf.layers.flatten().apply(src.outputs[0])) as tf.SymbolicTensor;
  assert.match(
    randomWeightsNotice(tf.model({ inputs: src.inputs, outputs: head })) ?? '',
    /resnet50 base: RANDOM/,
  );
  assert.equal(randomWeightsNotice(dst), null);
  assert.deepEqual(weightsOrigins(dst), [{ base: 'resnet50', weights: file }]);
  src.dispose();
  dst.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('not an HDF5 file: a clear error naming the file', async () => {
  const file = path.join(tmpDir('h5-'), 'broken.h5');
  fs.writeFileSync(file, 'not hdf5');
  await assert.rejects(
    readKerasWeights(file),
    (e: Error) => e.message.includes(file) && /HDF5/.test(e.message),
  );
  await assert.rejects(readKerasWeights(file + '.missing'), /not found/);
});

// Cross-check with h5py (what Keras itself uses) when the machine has it.
const hasH5py =
  spawnSync('/usr/bin/python3', ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0;
test(
  'h5py-written Keras layout (fixed-length byte strings) loads; our files read back in h5py',
  { skip: hasH5py ? false : 'needs python3 with h5py' },
  async () => {
    const dir = tmpDir('h5py-');
    const file = path.join(dir, 'keras.h5');
    const py = `
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['layer_names'] = np.array([b'input_1', b'dense_1'])
    g = f.create_group('input_1'); g.attrs['weight_names'] = np.array([], dtype='S')
    g = f.create_group('dense_1'); g.attrs['weight_names'] = np.array([b'dense_1/kernel:0', b'dense_1/bias:0'])
    g.create_dataset('dense_1/kernel:0', data=np.arange(6, dtype='float32').reshape(3, 2))
    g.create_dataset('dense_1/bias:0', data=np.array([7, 8], dtype='float32'))
`;
    assert.equal(spawnSync('/usr/bin/python3', ['-c', py, file]).status, 0);
    const m = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'dense' })],
    });
    await loadKerasWeights(m, file);
    assert.deepEqual(Array.from(m.layers[0].weights[0].read().dataSync()), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(m.layers[0].weights[1].read().dataSync()), [7, 8]);

    const ours = path.join(dir, 'ours.h5');
    await saveKerasWeights(small(KERAS_NEW, 4, 7), ours, { chunkLayerNames: 2 });
    const check = `
import h5py, sys
f = h5py.File(sys.argv[1], 'r')
names = [n for k in sorted(a for a in f.attrs if a.startswith('layer_names')) for n in f.attrs[k]]
g = f['conv2d']
print(','.join(str(n if isinstance(n, str) else n.decode()) for n in names), g[g.attrs['weight_names'][0]].shape)
`;
    const out = spawnSync('/usr/bin/python3', ['-c', check, ours], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), `${KERAS_NEW.join(',')} (3, 3, 3, 4)`);
  },
);

test('a shape mismatch in a later layer leaves the model untouched (every shape is checked before any is assigned)', async () => {
  const file = path.join(tmpDir('h5-'), 'w.h5');
  const dense = (units: number[]) =>
    tf.sequential({
      layers: [
        tf.layers.dense({ units: units[0], inputShape: [5], name: 'first' }),
        tf.layers.dense({ units: units[1], name: 'second' }),
      ],
    });
  await saveKerasWeights(dense([4, 3]), file);
  const target = dense([4, 7]);
  const before = target.getWeights().map((w) => Array.from(w.dataSync()));
  await assert.rejects(
    loadKerasWeights(target, file),
    /weight "second\/kernel" expects shape \[4, 7\]/,
  );
  assert.deepEqual(
    target.getWeights().map((w) => Array.from(w.dataSync())),
    before,
  );
});
