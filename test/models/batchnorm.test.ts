// Keras (TF2) BatchNormalization semantics: frozen = inference mode, scale:false trains.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { KerasBatchNormalization, recalibrateBatchNorm } from '../../lib/models/batchnorm';
import { freeze } from '../../lib/models/freeze';

before(async () => {
  await tf.setBackend('cpu');
});

const values = (v: tf.LayerVariable) => Array.from(v.read().dataSync());
const stats = (bn: tf.layers.Layer) => bn.weights.slice(-2).map(values);
const randomBatch = (seed: number) => ({
  x: tf.randomNormal([8, 6, 6, 3], 2, 3, 'float32', seed),
  y: tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3),
});

/** A tiny "base" (conv + BN) under a head, built as one functional model like the walkthroughs. */
function baseAndModel(bnArgs: ConstructorParameters<typeof KerasBatchNormalization>[0] = {}) {
  const input = tf.input({ shape: [6, 6, 3] });
  const conv = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, name: 'conv' })
    .apply(input) as tf.SymbolicTensor;
  const bn = new KerasBatchNormalization({ name: 'bn', ...bnArgs });
  const base = tf.model({
    inputs: input,
    outputs: bn.apply(conv) as tf.SymbolicTensor,
    name: 'base',
  });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, activation: 'softmax', name: 'head' })
    .apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  return { base, model, bn };
}

test('frozen base: fit leaves BN moving statistics and base weights unchanged (Keras inference mode)', async () => {
  const { base, model, bn } = baseAndModel();
  // Give the moving stats non-default values so "unchanged" is meaningful.
  bn.setWeights([
    tf.ones([4]).mul(1.5),
    tf.ones([4]).mul(0.2),
    tf.ones([4]).mul(0.3),
    tf.ones([4]).mul(2),
  ]);
  freeze(base);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const before = bn.weights.map(values);
  const convBefore = values(model.getLayer('conv').weights[0]);
  const headBefore = values(model.getLayer('head').weights[0]);
  const { x, y } = randomBatch(1);
  await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  assert.deepEqual(bn.weights.map(values), before);
  assert.deepEqual(values(model.getLayer('conv').weights[0]), convBefore);
  assert.notDeepEqual(
    values(model.getLayer('head').weights[0]),
    headBefore,
    'the head still trains',
  );
  tf.dispose([x, y]);
});

test('a BN layer with trainable=false uses moving statistics even when called with training=true', () => {
  const bn = new KerasBatchNormalization({ epsilon: 1e-3 });
  const x = tf.randomNormal([4, 3, 3, 2], 5, 2, 'float32', 7);
  bn.apply(x); // build
  bn.trainable = false;
  const inTraining = bn.apply(x, { training: true }) as tf.Tensor;
  const inference = bn.apply(x) as tf.Tensor;
  // Moving stats are (0, 1): inference output is x / sqrt(1 + eps).
  const expected = x.div(Math.sqrt(1 + 1e-3));
  assert.ok(tf.max(tf.abs(inTraining.sub(expected))).dataSync()[0] < 1e-5);
  assert.ok(tf.max(tf.abs(inference.sub(expected))).dataSync()[0] < 1e-5);
  tf.dispose([x, inTraining, inference, expected]);
});

test('unfrozen BN: one training step moves the statistics by Keras momentum from the batch moments', async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const bn = new KerasBatchNormalization({ momentum: 0.9, name: 'bn' });
  const flat = tf.layers.flatten().apply(bn.apply(input)) as tf.SymbolicTensor;
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 1 }).apply(flat) as tf.SymbolicTensor,
  });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  const x = tf.randomNormal([6, 4, 4, 2], 3, 2, 'float32', 3);
  const y = tf.zeros([6, 1]);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  await model.fit(x, y, { epochs: 1, batchSize: 6, verbose: 0 });
  const [movingMean, movingVar] = stats(bn);
  const m = mean.dataSync(),
    v = variance.dataSync();
  for (let c = 0; c < 2; c++) {
    assert.ok(
      Math.abs(movingMean[c] - 0.1 * m[c]) < 1e-4,
      `mean ch${c}: ${movingMean[c]} vs ${0.1 * m[c]}`,
    );
    assert.ok(
      Math.abs(movingVar[c] - (0.9 + 0.1 * v[c])) < 1e-4,
      `var ch${c}: ${movingVar[c]} vs ${0.9 + 0.1 * v[c]}`,
    );
  }
  tf.dispose([x, y, mean, variance]);
});

test('scale:false BN trains (tfjs #2868) and its gradients match finite differences', async () => {
  const bn = new KerasBatchNormalization({ scale: false, epsilon: 1e-3 });
  const x0 = tf.randomNormal([3, 2, 2, 2], 1, 2, 'float32', 11);
  bn.apply(x0); // build: weights are beta, moving_mean, moving_variance (no gamma)
  assert.deepEqual(
    bn.weights.map((w) => w.originalName.split('/').pop()),
    ['beta', 'moving_mean', 'moving_variance'],
  );
  bn.setWeights([tf.tensor1d([0.3, -0.2]), tf.zeros([2]), tf.ones([2])]);
  const w = tf.randomNormal(x0.shape, 0, 1, 'float32', 12);
  // Loss through the training-mode path (batch statistics); moving-stat writes don't affect it.
  const loss = (x: tf.Tensor) =>
    tf.sum(tf.mul(bn.apply(x, { training: true }) as tf.Tensor, w)).asScalar();
  const grad = tf.grad(loss)(x0);
  const g = grad.dataSync();
  const xs = x0.dataSync();
  const h = 1e-2;
  for (const i of [0, 3, 5, 10, 15]) {
    const plus = Float32Array.from(xs);
    plus[i] += h;
    const minus = Float32Array.from(xs);
    minus[i] -= h;
    const fd =
      (loss(tf.tensor(plus, x0.shape)).dataSync()[0] -
        loss(tf.tensor(minus, x0.shape)).dataSync()[0]) /
      (2 * h);
    assert.ok(
      Math.abs(fd - g[i]) < 2e-2 * Math.max(1, Math.abs(fd)),
      `d/dx[${i}]: analytic ${g[i]} vs numeric ${fd}`,
    );
  }
  // And a whole fit step of a scale:false model runs and updates beta.
  const { model, bn: bn2 } = baseAndModel({ scale: false });
  model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
  const betaBefore = values(bn2.weights[0]);
  const { x, y } = randomBatch(2);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.notDeepEqual(values(bn2.weights[0]), betaBefore);
  tf.dispose([x0, w, grad, x, y]);
});

test('frozen BN inside a training step still passes gradients to earlier trainable layers', async () => {
  const { model, bn } = baseAndModel({ scale: false });
  bn.trainable = false;
  model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
  const convBefore = values(model.getLayer('conv').weights[0]);
  const statsBefore = stats(bn);
  const { x, y } = randomBatch(3);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.notDeepEqual(values(model.getLayer('conv').weights[0]), convBefore);
  assert.deepEqual(stats(bn), statsBefore);
  tf.dispose([x, y]);
});

test('KerasBatchNormalization serializes and reloads with its Keras options', () => {
  const { model } = baseAndModel({ scale: false, epsilon: 1.001e-5, momentum: 0.9 });
  const json = model.toJSON(null, false) as unknown as {
    config: { layers: { class_name: string; config: Record<string, unknown> }[] };
  };
  const layer = json.config.layers.find((l) => l.class_name === 'KerasBatchNormalization');
  assert.ok(layer);
  assert.equal(layer.config.scale, false);
  assert.equal(layer.config.epsilon, 1.001e-5);
  return tf.models
    .modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] } as never)
    .then((m) => {
      const bn = m.getLayer('bn') as KerasBatchNormalization;
      assert.ok(bn instanceof KerasBatchNormalization);
      assert.equal(bn.scale, false);
      assert.equal(bn.momentum, 0.9);
    });
});

test('a base nested as one layer: BN updates when trainable, stays put when the base is frozen', async () => {
  for (const frozen of [false, true]) {
    const input = tf.input({ shape: [4, 4, 2] });
    const bn = new KerasBatchNormalization({});
    const base = tf.model({
      inputs: input,
      outputs: bn.apply(input) as tf.SymbolicTensor,
      name: 'base',
    });
    const model = tf.sequential({
      layers: [base, tf.layers.flatten(), tf.layers.dense({ units: 1 })],
    });
    if (frozen) freeze(model, { names: ['base'] });
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    const x = tf.randomNormal([6, 4, 4, 2], 3, 1, 'float32', 21);
    const y = tf.zeros([6, 1]);
    await model.fit(x, y, { epochs: 1, verbose: 0 });
    const movingMean = stats(bn)[0];
    if (frozen) assert.deepEqual(movingMean, [0, 0]);
    else
      assert.ok(
        movingMean.every((m) => m > 0.02 && m < 0.04),
        `one step at momentum 0.99 moves the mean ~0.01 * 3: ${movingMean}`,
      );
    tf.dispose([x, y]);
  }
});

test("recalibrateBatchNorm: moving statistics become the plain average of the batches' moments; momentum is kept", () => {
  const input = tf.input({ shape: [5] });
  const bn = new KerasBatchNormalization({ name: 'bn', epsilon: 1e-3 });
  const model = tf.model({ inputs: input, outputs: bn.apply(input) as tf.SymbolicTensor });
  const batches = [0, 1, 2].map((k) => tf.randomNormal([16, 5], 3 * k, 1 + k, 'float32', 7 + k));
  const moments = batches.map((x) => tf.moments(x, 0));
  const want = (key: 'mean' | 'variance') =>
    tf.tidy(
      () =>
        tf
          .stack(moments.map((m) => m[key]))
          .mean(0)
          .arraySync() as number[],
    );
  const [wantMean, wantVar] = [want('mean'), want('variance')];
  assert.equal(recalibrateBatchNorm(model, batches), 3);
  const [mean, variance] = stats(bn);
  mean.forEach((v, i) =>
    assert.ok(Math.abs(v - wantMean[i]) < 1e-4, `mean[${i}] ${v} vs ${wantMean[i]}`),
  );
  // Variance within the estimator's n/(n-1) convention (Keras uses the batch's biased variance).
  variance.forEach((v, i) =>
    assert.ok(
      Math.abs(v - wantVar[i]) / wantVar[i] < 16 / 15 - 1 + 1e-4,
      `var[${i}] ${v} vs ${wantVar[i]}`,
    ),
  );
  assert.equal(bn.momentum, 0.99);
  // Momentum 0.99 over the same three batches would have left the statistics near 0 and 1.
  assert.ok(Math.max(...mean.map(Math.abs)) > 1);
});
