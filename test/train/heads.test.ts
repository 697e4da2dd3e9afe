// Heads (presets match the walkthroughs), compile options, losses and metrics by hand.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildHead, HEADS, headBoundary, type HeadSpec } from '../../lib/train/heads';
import {
  compile,
  adam,
  sgd,
  crossEntropy,
  topKCategoricalAccuracy,
  setLearningRate,
  getLearningRate,
} from '../../lib/train/compile';
import { tinyBase } from './fake-dataset';

before(async () => {
  await tf.setBackend('cpu');
});

/** GAP -> Dropout -> softmax: a small head for the compile and split tests. */
const gapHead = (classes = 5): HeadSpec => [
  { type: 'globalAveragePooling' },
  { type: 'dropout', rate: 0.2 },
  { type: 'output', classes, activation: 'softmax' },
];

function describe(m: tf.LayersModel, from: number): string[] {
  return m.layers.slice(from).map((l) => {
    const c = l.getConfig() as Record<string, unknown>;
    const extra = [
      c.units,
      c.activation,
      c.rate,
      (c.kernelRegularizer as { config?: { l2?: number } } | undefined)?.config?.l2,
    ]
      .filter((v) => v !== undefined && v !== null)
      .map((v) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v));
    return [l.getClassName(), ...extra].join(' ');
  });
}

test('buildHead keeps the base layers and their indices, and records the boundary', () => {
  const base = tinyBase();
  const m = buildHead(base, HEADS.vgg16Gtsrb({ classes: 5 }));
  assert.deepEqual(
    m.layers.slice(0, base.layers.length).map((l) => l.name),
    base.layers.map((l) => l.name),
  );
  assert.equal(m.layers[1], base.layers[1], 'same layer objects, shared weights');
  assert.deepEqual(m.outputs[0].shape, [null, 5]);
  assert.equal(headBoundary(m), 'block2_pool');
});

test("the notebooks' heads", () => {
  const base = tinyBase();
  const n = base.layers.length;
  assert.deepEqual(describe(buildHead(base, HEADS.vgg16Gtsrb()), n), [
    'Flatten',
    'Dense 128 relu',
    'Dropout 0.6',
    'Dense 43 softmax',
  ]);
  assert.deepEqual(describe(buildHead(base, HEADS.resnet50Cars()), n), [
    'GlobalAveragePooling2D',
    'BatchNormalization',
    'Dense 512 relu 0.0005',
    'Dropout 0.6',
    'Dense 196 softmax 0.0005',
  ]);
  assert.deepEqual(describe(buildHead(base, HEADS.inceptionV3Cars()), n), [
    'GlobalAveragePooling2D',
    'Dense 512 linear 0.001',
    'BatchNormalization',
    'Activation relu',
    'Dropout 0.5',
    'Dense 256 linear 0.001',
    'BatchNormalization',
    'Activation relu',
    'Dropout 0.5',
    'Dense 196 softmax 0.001',
  ]);
  // Sizes straight from an `as const` config cell (readonly tuple).
  const cfg = { units: [64, 32], dropout: 0.4, l2: 1e-4 } as const;
  assert.deepEqual(describe(buildHead(base, HEADS.inceptionV3Cars({ classes: 5, ...cfg })), n), [
    'GlobalAveragePooling2D',
    'Dense 64 linear 0.0001',
    'BatchNormalization',
    'Activation relu',
    'Dropout 0.4',
    'Dense 32 linear 0.0001',
    'BatchNormalization',
    'Activation relu',
    'Dropout 0.4',
    'Dense 5 softmax 0.0001',
  ]);
});

test('the ResNet50 head accepts a pooled base (Keras pooling="avg"); bad specs say how to fix them', () => {
  const input = tf.input({ shape: [4] });
  const pooled = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 6 }).apply(input) as tf.SymbolicTensor,
  });
  assert.deepEqual(describe(buildHead(pooled, HEADS.resnet50Cars({ classes: 3 })), 2), [
    'BatchNormalization',
    'Dense 512 relu 0.0005',
    'Dropout 0.6',
    'Dense 3 softmax 0.0005',
  ]);
  assert.throws(
    () =>
      buildHead(tinyBase(), [
        { type: 'dense', units: 3 },
        { type: 'output', classes: 2 },
      ]),
    /globalAveragePooling.*flatten/,
  );
  assert.throws(() => buildHead(tinyBase(), [{ type: 'flatten' }]), /last layer of a head must be/);
  assert.throws(
    () => buildHead(pooled, [{ type: 'globalAveragePooling' }, { type: 'output', classes: 2 }]),
    /already outputs a vector/,
  );
  assert.throws(
    () =>
      buildHead(tinyBase(), [
        { type: 'flatten' },
        { type: 'dropout', rate: 1.5 },
        { type: 'output', classes: 2 },
      ]),
    /rate must be in/,
  );
});

test('crossEntropy matches the Keras formula, with label smoothing', () => {
  const p = tf.tensor2d([
    [0.7, 0.2, 0.1],
    [0.1, 0.1, 0.8],
  ]);
  const labels = tf.tensor1d([0, 1], 'int32');
  const plain = Array.from(crossEntropy(labels, p).dataSync());
  assert.ok(Math.abs(plain[0] + Math.log(0.7)) < 1e-6 && Math.abs(plain[1] + Math.log(0.1)) < 1e-6);
  // Smoothing 0.3 over 3 classes: targets 0.8 / 0.1 / 0.1.
  const smooth = crossEntropy(labels, p, { labelSmoothing: 0.3 }).dataSync();
  const want0 = -(0.8 * Math.log(0.7) + 0.1 * Math.log(0.2) + 0.1 * Math.log(0.1));
  assert.ok(Math.abs(smooth[0] - want0) < 1e-6);
  const logits = tf.tensor2d([[2, 1, 0]]);
  const fromLogits = crossEntropy(tf.tensor1d([0], 'int32'), logits, {
    fromLogits: true,
  }).dataSync()[0];
  assert.ok(Math.abs(fromLogits - (Math.log(Math.exp(2) + Math.exp(1) + 1) - 2)) < 1e-6);
  tf.dispose([p, labels, logits]);
});

test('topKCategoricalAccuracy counts ties in favour, like tf.math.in_top_k', () => {
  const top2 = topKCategoricalAccuracy(2);
  const p = tf.tensor2d([
    [0.5, 0.3, 0.2, 0.0],
    [0.4, 0.3, 0.3, 0.0],
    [0.1, 0.2, 0.3, 0.4],
  ]);
  const labels = tf.tensor1d([1, 2, 0], 'int32');
  assert.deepEqual(Array.from(top2.fn(labels, p).dataSync()), [1, 1, 0]);
  assert.equal(top2.name, 'top_k_categorical_accuracy');
  assert.throws(() => topKCategoricalAccuracy(0), /positive integer/);
  tf.dispose([p, labels]);
});

test('compile validates options; the learning rate can change between steps for Adam and SGD', () => {
  const m = buildHead(tinyBase(), gapHead());
  assert.throws(() => compile(m, { labelSmoothing: 1 }), /labelSmoothing/);
  assert.throws(() => compile(m, { loss: 'mse' as never }), /unknown loss/);
  assert.throws(
    () =>
      compile(m, { metrics: ['accuracy', topKCategoricalAccuracy(3), topKCategoricalAccuracy(5)] }),
    /two metrics named/,
  );
  assert.throws(
    () => compile(m, { optimizer: adam({ learningRate: 0 }) }),
    /learningRate must be > 0/,
  );
  for (const opt of [tf.train.adam(0.1), tf.train.momentum(0.1, 0.9, true), tf.train.sgd(0.1)]) {
    setLearningRate(opt, 0.025);
    assert.equal(getLearningRate(opt), 0.025);
    // The step really uses it: one SGD-like step on x with grad 1.
    const v = tf.variable(tf.scalar(1));
    opt.applyGradients([{ name: v.name, tensor: tf.scalar(1) }]);
    const moved = 1 - v.dataSync()[0];
    assert.ok(moved > 0.02 && moved < 0.06, `${opt.getClassName()} moved ${moved}`);
    v.dispose();
  }
  assert.deepEqual(sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), {
    kind: 'sgd',
    learningRate: 0.1,
    momentum: 0.9,
    nesterov: true,
  });
});

test('splitModel: bottom then top computes the model, shares its weights, and leaves it saveable', async () => {
  const { splitModel } = await import('../../lib/train/graph');
  const { saveModel, loadModel } = await import('../../lib/models/saveload');
  const { tmpDir } = await import('../helpers');
  const m = buildHead(tinyBase({ batchNorm: true }), gapHead(3));
  const { bottom, top } = splitModel(m, 'block1_pool');
  assert.deepEqual(top.inputs[0].shape, [null, 4, 4, 4]);
  assert.equal(top.getLayer('block2_conv1'), m.getLayer('block2_conv1'));
  const x = tf.randomUniform([2, 8, 8, 3]);
  const whole = m.predict(x) as tf.Tensor;
  const parts = top.predict(bottom.predict(x) as tf.Tensor) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(whole, parts))).dataSync()[0] < 1e-6);
  assert.throws(() => splitModel(m, 'nope'), /no layer named "nope"/);
  const dir = tmpDir('split-');
  await saveModel(m, `${dir}/m`);
  const back = await loadModel(`${dir}/m`);
  assert.equal(back.layers.length, m.layers.length);
  tf.dispose([x, whole, parts]);
});
