// saveModel / loadModel: identical predictions after a round trip, custom layers included, atomic.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveModel, loadModel } from '../../lib/models/saveload';
import { KerasBatchNormalization } from '../../lib/models/batchnorm';
import { PreprocessInput } from '../../lib/data/preprocess';
import { freeze, unfreeze } from '../../lib/models/freeze';
import { inceptionV3 } from '../../lib/models/applications/inceptionV3';
import { randomWeightsNotice } from '../../lib/models/origin';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

async function trainedModel(seed = 1) {
  const input = tf.input({ shape: [8, 8, 3], name: 'input_1' });
  let x = new PreprocessInput({ mode: 'tf' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, useBias: false, name: 'conv2d' })
    .apply(x) as tf.SymbolicTensor;
  x = new KerasBatchNormalization({ scale: false, name: 'batch_normalization' }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({ units: 3, activation: 'softmax', name: 'head' })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'tiny' });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const xs = tf.randomUniform([6, 8, 8, 3], 0, 255, 'float32', seed);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
  await model.fit(xs, ys, { epochs: 2, batchSize: 3, verbose: 0 }); // moves BN stats away from defaults
  tf.dispose([xs, ys]);
  return model;
}
const probe = () => tf.randomUniform([4, 8, 8, 3], 0, 255, 'float32', 2);
const predict = (m: tf.LayersModel) =>
  tf.tidy(() => Array.from((m.predict(probe()) as tf.Tensor).dataSync()));

test('save -> load gives identical predictions, layer classes and BN options', async () => {
  const model = await trainedModel();
  const dir = path.join(tmpDir('save-'), 'ckpt');
  await saveModel(model, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const back = await loadModel(dir);
  assert.deepEqual(predict(back), predict(model));
  assert.deepEqual(
    back.layers.map((l) => l.getClassName()),
    model.layers.map((l) => l.getClassName()),
  );
  const bn = back.getLayer('batch_normalization') as KerasBatchNormalization;
  assert.equal(bn.scale, false);
  assert.deepEqual(
    bn.weights.map((w) => Array.from(w.read().dataSync())),
    model.getLayer('batch_normalization').weights.map((w) => Array.from(w.read().dataSync())),
  );
});

test('overwriting a checkpoint replaces it whole and leaves no temporary folders', async () => {
  const parent = tmpDir('save-');
  const dir = path.join(parent, 'ckpt');
  const a = await trainedModel();
  await saveModel(a, dir);
  const b = await trainedModel();
  b.getLayer('head').setWeights(b.getLayer('head').weights.map((w) => tf.onesLike(w.read())));
  await saveModel(b, dir);
  assert.deepEqual(fs.readdirSync(parent), ['ckpt']);
  assert.deepEqual(predict(await loadModel(dir)), predict(b));
});

// A pid no process has (above Linux' pid_max), for leftovers of a "killed" save.
const DEAD = 99999999;

test('a save killed between its two renames loads the complete new checkpoint; the next save finishes the swap', async () => {
  const parent = tmpDir('save-');
  const dir = path.join(parent, 'ckpt');
  const before = await trainedModel();
  await saveModel(before, dir);
  const after = await trainedModel(7);
  await saveModel(after, path.join(parent, 'other'));
  // State right after the first rename: the old folder aside, the complete new one under its temp name.
  fs.renameSync(dir, path.join(parent, `.ckpt.old-${DEAD}-abcd`));
  fs.renameSync(path.join(parent, 'other'), path.join(parent, `.ckpt.tmp-${DEAD}-abcd`));
  assert.deepEqual(predict(await loadModel(dir)), predict(after));
  await saveModel(after, dir);
  assert.deepEqual(fs.readdirSync(parent), ['ckpt']);
});

test('an orphaned .old-* folder (a killed save, then the checkpoint deleted) is never loaded, and is cleaned up', async () => {
  const parent = tmpDir('save-');
  const dir = path.join(parent, 'ckpt');
  const model = await trainedModel();
  await saveModel(model, dir);
  fs.renameSync(dir, path.join(parent, `.ckpt.old-${DEAD}-beef`)); // the save's second rename happened, then the user deleted ckpt
  fs.mkdirSync(path.join(parent, `.ckpt.tmp-${DEAD}-0000`)); // an unfinished temp folder of another killed save
  await assert.rejects(loadModel(dir), /no model\.json in .*ckpt/);
  await saveModel(model, dir);
  assert.deepEqual(fs.readdirSync(parent), ['ckpt']);
});

test('a frozen model reloads with its trainable flags; a missing folder says what to pass', async () => {
  const model = await trainedModel();
  freeze(model, { upTo: 3 });
  const dir = path.join(tmpDir('save-'), 'ckpt');
  await saveModel(model, dir);
  const back = await loadModel(dir);
  assert.deepEqual(
    back.layers.map((l) => l.trainable),
    model.layers.map((l) => l.trainable),
  );
  await assert.rejects(loadModel(path.join(dir, 'nope')), /no model\.json in .*nope.*saveModel/);
});

test('InceptionV3 + head reloads with the Keras indices the walkthrough freezes by (layers[:249]) and its weights origin', async () => {
  const base = await inceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
  const pooled = tf.layers
    .globalAveragePooling2d({ name: 'gap' })
    .apply(base.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 4, activation: 'softmax', name: 'head' })
    .apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  const dir = path.join(tmpDir('save-'), 'tl_best');
  await saveModel(model, dir);
  const back = await loadModel(dir);
  assert.deepEqual(
    back.layers.map((l) => l.name),
    model.layers.map((l) => l.name),
  );
  assert.equal(back.layers[248].name, 'mixed8');
  assert.ok(back.getLayer('batch_normalization_93') instanceof KerasBatchNormalization);
  assert.match(randomWeightsNotice(back) ?? '', /inceptionv3 base: RANDOM/);
  const x = tf.randomUniform([1, 75, 75, 3], -1, 1, 'float32', 5);
  assert.deepEqual(
    Array.from((back.predict(x) as tf.Tensor).dataSync()),
    Array.from((model.predict(x) as tf.Tensor).dataSync()),
  );
  unfreeze(back);
  freeze(back, { upTo: 249 });
  assert.equal(back.layers.filter((l) => l.trainable).length, 313 - 249);
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  model.dispose();
  back.dispose();
});
