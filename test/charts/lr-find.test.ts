// lrFind: fastai's range test — schedule, smoothing, divergence stop, suggestions, restoring the
// model and its optimizer, and the same curve from cached features as from images.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildHead } from '../../lib/train/heads';
import { compile, adam, getCompiled } from '../../lib/train/compile';
import { trainPhase } from '../../lib/train/loop';
import { cachedFeatures } from '../../lib/train/cache';
import { lrFind, suggestLearningRates, exponentialLr } from '../../lib/charts/lr-find';
import { fakeDataset, tinyBase, setDeterministicWeights } from '../train/fake-dataset';
import { freezeAll } from '../train/util';

before(async () => {
  await tf.setBackend('cpu');
});

function model() {
  const base = tinyBase({ batchNorm: 'keras' });
  freezeAll(base);
  const m = buildHead(base, [
    { type: 'globalAveragePooling' },
    { type: 'batchNormalization' },
    { type: 'dense', units: 8, activation: 'relu' },
    { type: 'output', classes: 3 },
  ]);
  setDeterministicWeights(m, 11);
  return compile(m, {
    optimizer: adam({ learningRate: 1e-3 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
}

const values = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

test('suggestions: steepest descent and minimum/10 of a known curve', () => {
  const lrs = Array.from({ length: 100 }, (_, i) => exponentialLr(1e-7, 10, i, 100));
  // A sigmoid drop centred at lr 1e-3 (log10 = -3), then a rise after 1e-1.
  const losses = lrs.map((lr) => {
    const x = Math.log10(lr);
    return 2 - 1 / (1 + Math.exp(-3 * (x + 3))) + Math.max(0, x + 1) ** 2;
  });
  const { lrMin, lrSteep } = suggestLearningRates(lrs, losses);
  assert.ok(Math.abs(Math.log10(lrSteep) + 3) < 0.1, `steepest at ${lrSteep}, expected about 1e-3`);
  const iMin = losses.indexOf(Math.min(...losses.slice(10, 95)));
  assert.equal(lrMin, lrs[iMin] / 10);
  assert.ok(lrMin < 1e-1 && lrMin > 1e-3, `lrMin ${lrMin}`);
});

test('lrFind ramps exponentially, smooths with bias correction, stops on divergence, and restores weights and optimizer', async () => {
  const m = model();
  const ds = fakeDataset({ n: 24, batchSize: 4, shuffle: true });
  await trainPhase({ model: m, train: ds, epochs: 1, verbose: 0 }); // the optimizer now has moments
  const opt = getCompiled(m).optimizer;
  const optBefore = values((await opt.getWeights()).map((w) => w.tensor));
  const weightsBefore = values(m.weights.map((w) => w.read()));
  const r = await lrFind(m, ds, { startLr: 1e-5, endLr: 1e3, iterations: 60, show: false });
  assert.ok(r.diverged, 'adam at 1e3 must diverge');
  assert.ok(r.lrs.length < 60 && r.lrs.length > 10, `${r.lrs.length} steps`);
  r.lrs.forEach((lr, i) => assert.ok(Math.abs(lr / exponentialLr(1e-5, 1e3, i, 60) - 1) < 1e-12));
  let avg = 0;
  r.rawLosses.forEach((l, i) => {
    avg = 0.98 * avg + 0.02 * l;
    assert.ok(Math.abs(r.losses[i] - avg / (1 - 0.98 ** (i + 1))) < 1e-9);
  });
  const last = r.losses[r.losses.length - 1];
  assert.ok(
    !Number.isFinite(last) || last > 4 * Math.min(...r.losses.slice(0, -1)),
    'stopped at the first step past 4x the best',
  );
  r.losses
    .slice(0, -1)
    .forEach((l, i) =>
      assert.ok(l <= 4 * Math.min(...r.losses.slice(0, i + 1)), 'no earlier step diverged'),
    );
  assert.deepEqual(
    values(m.weights.map((w) => w.read())),
    weightsBefore,
    'every weight (BN statistics too) is restored',
  );
  assert.equal(getCompiled(m).optimizer, opt);
  assert.deepEqual(
    values((await opt.getWeights()).map((w) => w.tensor)),
    optBefore,
    'the compiled optimizer is untouched',
  );
  assert.ok(r.lrSteep >= r.lrs[0] && r.lrSteep <= r.lrs[r.lrs.length - 1]);
  assert.ok(r.lrMin > 0);
  const x = (r.chart.spec as { layer: { encoding: { x: { scale: { type: string } } } }[] }).layer[0]
    .encoding.x;
  assert.equal(x.scale.type, 'log');
  assert.match(r.chart.svg, /steepest/);
  assert.match(r.chart.svg, /minimum\/10/);
  assert.match(r.chart.text, /lrSteep/);
});

test('lrFind on cached features gives the same curve as on images, and repeats the data for more steps', async () => {
  const m = model();
  const ds = fakeDataset({ n: 12, batchSize: 4 });
  await lrFind(m, ds, { startLr: 1e-4, endLr: 1, iterations: 3, show: false });
  const tensors = tf.memory().numTensors;
  const viaImages = await lrFind(m, ds, { startLr: 1e-4, endLr: 1, iterations: 10, show: false });
  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
  const feats = await cachedFeatures(m, ds, { dir: null, shuffle: false });
  const viaFeatures = await lrFind(m, feats, {
    startLr: 1e-4,
    endLr: 1,
    iterations: 10,
    show: false,
  });
  assert.equal(viaImages.lrs.length, 10, '3 batches per pass, so the data is repeated');
  assert.equal(viaFeatures.lrs.length, 10);
  viaImages.rawLosses.forEach((l, i) =>
    assert.ok(
      Math.abs(l - viaFeatures.rawLosses[i]) < 1e-4,
      `step ${i}: ${l} vs ${viaFeatures.rawLosses[i]}`,
    ),
  );
});

test('lrFind explains bad input', async () => {
  const m = model();
  const ds = fakeDataset({ n: 8, batchSize: 4 });
  await assert.rejects(lrFind(m, ds, { startLr: 1, endLr: 0.1, show: false }), /startLr < endLr/);
  const raw = buildHead(tinyBase(), [
    { type: 'globalAveragePooling' },
    { type: 'output', classes: 3 },
  ]);
  await assert.rejects(lrFind(raw, ds, { show: false }), /not compiled/);
});
