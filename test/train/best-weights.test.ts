// The "best" model is the best epoch's model: EarlyStopping's restored weights and ModelCheckpoint's
// saved file hold, bit for bit, the weights at the end of the epoch they name, and evaluating either
// gives the numbers the log printed for that epoch. For every optimizer, on images and on cached
// features, with a frozen base and BatchNormalization, on onednn and on the fallbacks (cpu, wasm).
//
// What broke it: the one-pass Adam writes new weights into the variable's own array, and oneDNN kept
// the conv weights it had reordered for that array. Its guard (16 sampled values) sampled one output
// channel only for a [3,3,Cin,Cout] kernel; when that channel is a dead ReLU its entries never move,
// so every later step computed with the first step's weights, the log with them, and the "best"
// weights that were saved and restored were not the ones the log had measured.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerOnednnBackend } from '../../lib/backend/onednn';
import { registerWasmGradientKernels } from '../../lib/backend/wasm-gradients';
import { loadOnednnAddon, weightCacheFor } from '../../lib/backend/onednn-addon';
import { wroteInPlace } from '../../lib/backend/in-place';
import { valueHash } from '../../lib/models/value-hash';
import { kerasBatchNormalization } from '../../lib/models/batchnorm';
import { compile, adam, sgd, rmsprop, type OptimizerSpec } from '../../lib/train/compile';
import { trainPhase, evaluateMetrics } from '../../lib/train/loop';
import { trainOnBatch } from '../../lib/train/step';
import { cachedFeatures } from '../../lib/train/cache';
import { EarlyStopping, ModelCheckpoint, type TrainCallback } from '../../lib/train/callbacks';
import { loadCheckpoint } from '../../lib/train/checkpoint';
import { heldEpoch, historySummary, mergeHistories } from '../../lib/train/history';
import { bestEpochIndex } from '../../lib/charts/history';
import { setRandomSeed } from '../../lib/seed';
import { fakeDataset } from './fake-dataset';
import { tmpDir } from '../helpers';

const onednn = registerOnednnBackend();
const noOnednn = onednn.ok ? false : `oneDNN addon unavailable: ${onednn.reason}`;

before(() => {
  setRandomSeed(7);
});

/** sha256 of every weight's bytes, in model order (a real read of the values, no cache). */
function weightHashes(model: tf.LayersModel): string[] {
  return model.weights.map((w) => {
    const v = w.read().dataSync() as Float32Array;
    return createHash('sha256')
      .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      .digest('hex');
  });
}

/** A copy of a tensor that shares nothing with it (tfjs' clone shares the data). */
const copyOf = (t: tf.Tensor) => tf.tensor(t.dataSync().slice(), t.shape, t.dtype);

/**
 * A frozen "base" (conv + BatchNormalization, weights as if loaded from a file) and a trainable top:
 * conv 64→64 with a dead ReLU channel 0 (bias -1e4, so its weights get no gradient), trainable
 * BatchNormalization, pooling, softmax. 64 input channels make the old guard's stride a multiple
 * of the output channels, and make oneDNN keep the conv weights in a blocked (reordered) layout.
 */
function buildModel(seed: number, classes: number, channels = 64): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'images' });
  const conv = (name: string, filters: number) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    });
  let x = conv('base_conv', channels).apply(input) as tf.SymbolicTensor;
  x = kerasBatchNormalization({ name: 'base_bn' }).apply(x) as tf.SymbolicTensor;
  x = conv('top_conv', channels).apply(x) as tf.SymbolicTensor;
  x = kerasBatchNormalization({ name: 'top_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: classes,
      activation: 'softmax',
      name: 'predictions',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'best_weights_case' });
  // Weights in fresh arrays, as weights loaded from a file are (initialiser outputs may come from
  // the backend's recycled arrays, which oneDNN never caches).
  model.setWeights(model.getWeights().map(copyOf));
  const top = model.getLayer('top_conv');
  const [kernel, bias] = top.getWeights();
  const b = bias.dataSync().slice();
  b[0] = -1e4;
  top.setWeights([copyOf(kernel), tf.tensor1d(b)]);
  for (const name of ['base_conv', 'base_bn']) model.getLayer(name).trainable = false;
  return model;
}

/** Records each epoch's logs and the hashes of the weights at that epoch's end. */
class Recorder implements TrainCallback {
  readonly epochs: { logs: Record<string, number>; hashes: string[] }[] = [];
  onEpochEnd(_epoch: number, logs: Record<string, number>, ctx: { model: tf.LayersModel }): void {
    this.epochs.push({ logs: { ...logs }, hashes: weightHashes(ctx.model) });
  }
}

const OPTIMIZERS: [string, () => OptimizerSpec][] = [
  ['Adam', () => adam({ learningRate: 3e-3 })],
  ['SGD with momentum', () => sgd({ learningRate: 0.05, momentum: 0.9 })],
  ['RMSprop', () => rmsprop({ learningRate: 1e-3 })],
];

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

for (const backend of ['onednn', 'cpu', 'wasm'] as const) {
  for (const [optName, optimizer] of OPTIMIZERS) {
    for (const source of ['images', 'cached features'] as const) {
      test(
        `${backend}, ${optName}, ${source}: restored and checkpointed weights are the named epoch's, and evaluate to its logged numbers`,
        { skip: backend === 'onednn' ? noOnednn : false },
        async () => {
          await tf.setBackend(backend);
          if (backend === 'wasm') registerWasmGradientKernels(); // conv gradients, as initBackend does
          const classes = 3;
          const train = fakeDataset({ n: 24, classes, size: [8, 8], batchSize: 8, seed: 1 });
          const valid = fakeDataset({ n: 12, classes, size: [8, 8], batchSize: 6, seed: 2 });
          // 64 channels where oneDNN caches reordered weights; fewer on the slower JavaScript backends.
          const model = buildModel(11, classes, backend === 'onednn' ? 64 : 16);
          compile(model, {
            optimizer: optimizer(),
            loss: 'sparseCategoricalCrossentropy',
            labelSmoothing: 0.1,
            metrics: ['accuracy'],
          });
          const [trainSrc, validSrc] =
            source === 'images'
              ? [train, valid]
              : [
                  await cachedFeatures(model, train, { layer: 'base_bn', dir: null }),
                  await cachedFeatures(model, valid, {
                    layer: 'base_bn',
                    dir: null,
                    shuffle: false,
                  }),
                ];
          const file = path.join(tmpDir('best-'), 'best.keras');
          const recorder = new Recorder();
          // mode 'max' on val_loss names the epoch with the highest validation loss (the first, as
          // the model learns), so the restored weights must differ from the last epoch's.
          const watch = { monitor: 'val_loss', mode: 'max' as const };
          const stopping = new EarlyStopping({ ...watch, patience: 100, restoreBestWeights: true });
          const history = await trainPhase({
            model,
            train: trainSrc,
            validation: validSrc,
            epochs: 6,
            verbose: 0,
            callbacks: [
              recorder,
              stopping,
              new ModelCheckpoint(file, { ...watch, saveBestOnly: true }),
            ],
          });
          assert.equal(history.epochs.length, 6);
          const valLoss = recorder.epochs.map((e) => e.logs.val_loss);
          const best = valLoss.indexOf(Math.max(...valLoss));
          const last = recorder.epochs.length - 1;
          assert.equal(stopping.bestEpoch, best);
          assert.equal(history.restoredEpoch, best, 'the History says which epoch was restored');
          assert.equal(heldEpoch(history)?.metrics.val_loss, valLoss[best]);
          assert.notDeepEqual(
            recorder.epochs[best].hashes,
            recorder.epochs[last].hashes,
            'the best and the last epoch hold different weights (else this test shows nothing)',
          );

          // EarlyStopping's restore: bit for bit the best epoch's weights, evaluating to its log.
          assert.deepEqual(weightHashes(model), recorder.epochs[best].hashes);
          const restored = await evaluateMetrics(model, validSrc, { verbose: 0 });
          assert.ok(
            close(restored.loss, valLoss[best]),
            `restored model: val_loss ${restored.loss}, the log said ${valLoss[best]} at epoch ${best + 1}` +
              ` (last epoch ${valLoss[last]})`,
          );
          assert.ok(close(restored.accuracy, recorder.epochs[best].logs.val_accuracy));

          // ModelCheckpoint's file: the same weights, the same numbers.
          const loaded = await loadCheckpoint(file);
          assert.deepEqual(weightHashes(loaded), recorder.epochs[best].hashes);
          compile(loaded, {
            optimizer: optimizer(),
            loss: 'sparseCategoricalCrossentropy',
            labelSmoothing: 0.1,
            metrics: ['accuracy'],
          });
          const fromFile = await evaluateMetrics(loaded, source === 'images' ? valid : validSrc, {
            verbose: 0,
          });
          assert.ok(
            close(fromFile.loss, valLoss[best]),
            `checkpoint: val_loss ${fromFile.loss}, the log said ${valLoss[best]}`,
          );
          loaded.dispose();
          model.dispose();
        },
      );
    }
  }
}

test(
  'a conv trained by the one-pass Adam computes with its current weights (onednn reorder cache)',
  { skip: noOnednn },
  async () => {
    await tf.setBackend('onednn');
    const model = buildModel(5, 3);
    compile(model, {
      optimizer: adam({ learningRate: 0.01 }),
      loss: 'sparseCategoricalCrossentropy',
    });
    const xs = tf.randomNormal([8, 8, 8, 3], 0, 1, 'float32', 1);
    for (let i = 0; i < 5; i++) await trainOnBatch(model, xs, [0, 1, 2, 0, 1, 2, 0, 1]);
    // A second model over copies of the same weights: nothing cached for its arrays.
    const copy = buildModel(5, 3);
    copy.setWeights(model.getWeights().map(copyOf));
    const features = (m: tf.LayersModel) =>
      tf.model({ inputs: m.inputs, outputs: m.getLayer('top_conv').output as tf.SymbolicTensor });
    const live = (features(model).predict(xs) as tf.Tensor).dataSync();
    const fresh = (features(copy).predict(xs) as tf.Tensor).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < live.length; i++) maxDiff = Math.max(maxDiff, Math.abs(live[i] - fresh[i]));
    assert.ok(maxDiff < 1e-4, `the live conv differs from a copy of its weights by ${maxDiff}`);
  },
);

test(
  'an in-place write announced through wroteInPlace refreshes the reordered weights and drops the fingerprint',
  { skip: noOnednn },
  async () => {
    await tf.setBackend('onednn');
    const loaded = loadOnednnAddon();
    assert.ok('addon' in loaded);
    // A 64 -> 64 conv kernel: oneDNN computes with a reordered (blocked) copy, cached per array.
    const shape: [number, number, number, number] = [3, 3, 64, 64];
    const filter = tf.tensor4d(
      new Float32Array(3 * 3 * 64 * 64).map((_, i) => Math.sin(i)),
      shape,
    );
    const x = tf.tensor4d(
      new Float32Array(8 * 8 * 64).map((_, i) => Math.cos(i)),
      [1, 8, 8, 64],
    );
    const conv = (f: tf.Tensor4D) => tf.tidy(() => tf.conv2d(x, f, 1, 'same').dataSync().slice());
    const values = filter.dataSync() as Float32Array;
    const before = conv(filter);
    const cache = weightCacheFor(loaded.addon, values);
    assert.equal(weightCacheFor(loaded.addon, values), cache, 'unchanged array: the same cache');
    const hash = valueHash(filter);
    values[320] += 1; // output channel 0, an entry no sample looks at
    wroteInPlace(filter, values);
    const after = conv(filter);
    const fromCopy = tf.tensor4d(values.slice(), shape); // a new array: reordered from scratch
    const want = conv(fromCopy);
    assert.notDeepEqual(after, before, 'the conv sees the write');
    assert.deepEqual(after, want, 'and computes what a fresh copy of the weights gives');
    assert.notEqual(valueHash(filter), hash);
    tf.dispose([filter, x, fromCopy]);
  },
);

test("heldEpoch: the restored epoch, else the last; a merged history keeps the second phase's", () => {
  const epochs = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      epoch: from + i,
      lr: 1e-3,
      seconds: 1,
      metrics: { val_loss: 1 / (from + i + 1) },
    }));
  const phase1 = { epochs: epochs(0, 4), phases: [{ name: 'a', startEpoch: 0 }], restoredEpoch: 1 };
  assert.equal(heldEpoch(phase1)?.epoch, 1);
  const phase2 = { epochs: epochs(0, 3), phases: [{ name: 'b', startEpoch: 0 }] };
  assert.equal(heldEpoch(phase2)?.epoch, 2, 'nothing restored: the last epoch');
  assert.equal(mergeHistories(phase1, phase2).restoredEpoch, undefined);
  const merged = mergeHistories(phase1, { ...phase2, restoredEpoch: 0 });
  assert.equal(merged.restoredEpoch, 4, 'renumbered after the first phase');
  assert.equal(heldEpoch(merged)?.metrics.val_loss, 1, "the second phase's epoch 0");
});

test('the [Best] line and the chart mark the restored epoch, not a lower val_loss EarlyStopping did not count', () => {
  // val_loss 1.0 at epoch 2, 0.9998 at epoch 4: with minDelta 5e-4 EarlyStopping keeps epoch 2.
  const losses = [1.2, 1.0, 1.0003, 0.9998, 1.01];
  const h = {
    epochs: losses.map((v, epoch) => ({ epoch, lr: 1e-3, seconds: 1, metrics: { val_loss: v } })),
    phases: [{ name: 'a', startEpoch: 0 }],
    restoredEpoch: 1,
  };
  assert.match(
    historySummary(h),
    /\[Best\] Epoch 2 \| val_loss=1\.0000 .*restored by EarlyStopping/,
  );
  assert.equal(bestEpochIndex(h).index, 1);
  const { restoredEpoch: _, ...notRestored } = h;
  assert.match(historySummary(notRestored), /\[Best\] Epoch 4 \| val_loss=0\.9998$/m);
  assert.equal(bestEpochIndex(notRestored).index, 3);
});

test('property: a checkpoint holds the weights of the moment it was saved, whatever training follows', async () => {
  await tf.setBackend(onednn.ok ? 'onednn' : 'cpu');
  const { saveCheckpoint } = await import('../../lib/train/checkpoint');
  const { mulberry32 } = await import('../../lib/rng');
  const dir = tmpDir('prop-');
  for (let trial = 0; trial < 6; trial++) {
    const random = mulberry32(100 + trial);
    const [name, optimizer] = OPTIMIZERS[trial % OPTIMIZERS.length];
    const model = buildModel(20 + trial, 3, onednn.ok ? 64 : 16);
    compile(model, { optimizer: optimizer(), loss: 'sparseCategoricalCrossentropy' });
    const xs = tf.randomNormal([8, 8, 8, 3], 0, 1, 'float32', trial);
    const labels = Array.from({ length: 8 }, () => Math.floor(random() * 3));
    const before = 1 + Math.floor(random() * 4); // steps before the save
    const after = 1 + Math.floor(random() * 4); // steps after it
    for (let i = 0; i < before; i++) await trainOnBatch(model, xs, labels);
    const file = path.join(dir, `trial${trial}.keras`);
    await saveCheckpoint(model, file);
    const atSave = weightHashes(model);
    const outputAtSave = (model.predict(xs) as tf.Tensor).dataSync().slice();
    for (let i = 0; i < after; i++) await trainOnBatch(model, xs, labels);
    assert.notDeepEqual(weightHashes(model), atSave, `${name}: training went on`);
    const loaded = await loadCheckpoint(file);
    assert.deepEqual(weightHashes(loaded), atSave, `${name}, ${before}+${after} steps`);
    // And it computes what the live model computed at the save.
    const out = (loaded.predict(xs) as tf.Tensor).dataSync();
    out.forEach((v, i) => assert.ok(Math.abs(v - outputAtSave[i]) < 1e-5, `${name}: output ${i}`));
    loaded.dispose();
    model.dispose();
    xs.dispose();
  }
});
