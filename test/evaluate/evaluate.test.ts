import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { evaluateWithPredictions } from '../../lib/evaluate/evaluate';
import { categoricalCrossentropy } from '../../lib/evaluate/metrics';
import { brightestChannelModel, tinyDataset } from './tiny-dataset';

test('evaluate: loss, accuracy, top-k and per-image predictions on a known model', async () => {
  await tf.setBackend('cpu');
  // 5 images; image 3 is labelled red but is blue (a wrong prediction); batch size 2 -> 3 batches.
  const ds = await tinyDataset({
    images: [
      { label: 0, colour: 'red' },
      { label: 1, colour: 'green' },
      { label: 2, colour: 'blue' },
      { label: 0, colour: 'blue' },
      { label: 1, colour: 'green' },
    ],
    batchSize: 2,
  });
  const model = brightestChannelModel();
  const before = tf.memory().numTensors;
  const r = await evaluateWithPredictions(model, ds, { topK: 2, show: false });
  assert.equal(tf.memory().numTensors, before, 'evaluate leaks no tensors');
  assert.equal(r.size, 5);
  assert.deepEqual(r.labels, [0, 1, 2, 0, 1]);
  assert.deepEqual(r.predicted, [0, 1, 2, 2, 1]);
  assert.equal(r.accuracy, 4 / 5);
  assert.equal(r.topK, 2);
  assert.equal(r.probabilities!.length, 15);
  // Recompute the loss from the returned probabilities with the (separately tested) metric.
  const rows = Array.from({ length: 5 }, (_, i) =>
    Array.from(r.probabilities!.subarray(i * 3, i * 3 + 3)),
  );
  assert.ok(Math.abs(r.loss - categoricalCrossentropy(r.labels, rows)) < 1e-9);
  // For the blue image labelled red, red and green tie at the bottom: whether red is in the top 2
  // follows in_top_k (fewer than 2 classes strictly above it) -> depends only on the scores.
  const wrong = rows[3];
  const higher = wrong.filter((v) => v > wrong[0]).length;
  assert.equal(r.topKAccuracy, (4 + (higher < 2 ? 1 : 0)) / 5);
  assert.deepEqual(r.topKPredicted[0], [0, ...r.topKPredicted[0].slice(1)]);
  assert.ok(r.confidence.every((c) => c > 0.3 && c <= 1));

  // L2 penalties are added to the loss like Keras (and can be left out).
  const reg = brightestChannelModel([8, 8], { l2: 0.01 });
  const withReg = await evaluateWithPredictions(reg, ds, { topK: 2, show: false });
  const without = await evaluateWithPredictions(reg, ds, {
    topK: 2,
    show: false,
    includeRegularization: false,
    keepProbabilities: false,
  });
  assert.ok(
    Math.abs(withReg.loss - without.loss - 0.01 * 3 * 100) < 1e-3,
    `${withReg.loss} vs ${without.loss}`,
  );
  assert.equal(without.probabilities, undefined);
});

test('evaluate: a head with the wrong number of classes is refused with a fix', async () => {
  await tf.setBackend('cpu');
  const ds = await tinyDataset({
    images: [{ label: 0, colour: 'red' }],
    classNames: ['red', 'green', 'blue', 'other'],
  });
  const model = brightestChannelModel();
  await assert.rejects(
    evaluateWithPredictions(model, ds, { show: false }),
    /outputs 3 classes but the dataset has 4/,
  );
});

test("evaluate: a compiled model's loss uses its label smoothing, as Keras' evaluate uses the compiled loss", async () => {
  await tf.setBackend('cpu');
  const { compile, adam } = await import('../../lib/train/compile');
  const ds = await tinyDataset({
    images: [
      { label: 0, colour: 'red' },
      { label: 1, colour: 'green' },
      { label: 2, colour: 'blue' },
    ],
    batchSize: 2,
  });
  const model = brightestChannelModel();
  const plain = await evaluateWithPredictions(model, ds, { show: false });
  compile(model, {
    optimizer: adam({ learningRate: 1e-3 }),
    loss: 'categoricalCrossentropy',
    labelSmoothing: 0.1,
  });
  const compiled = await evaluateWithPredictions(model, ds, { show: false });
  const smoothed = await evaluateWithPredictions(model, ds, { show: false, labelSmoothing: 0.1 });
  assert.ok(Math.abs(compiled.loss - smoothed.loss) < 1e-12);
  assert.ok(compiled.loss > plain.loss + 1e-3, `${compiled.loss} vs ${plain.loss}`);
  assert.equal(
    (await evaluateWithPredictions(model, ds, { show: false, labelSmoothing: 0 })).loss,
    plain.loss,
  );
});
