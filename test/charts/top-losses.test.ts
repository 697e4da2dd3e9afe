// plotTopLosses: the highest-loss images first, their losses and probabilities, the same from
// cached features, and titles coloured by right/wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { plotTopLosses } from '../../lib/charts/top-losses';
import { evaluateWithPredictions } from '../../lib/evaluate/evaluate';
import { cachedFeatures } from '../../lib/train/cache';
import { brightestChannelModel, tinyDataset } from '../evaluate/tiny-dataset';

// Images 1, 3 and 4 carry a label that is not their colour: the model (brightest channel) is wrong there.
const images = [
  { label: 0, colour: 'red' as const },
  { label: 2, colour: 'green' as const },
  { label: 1, colour: 'green' as const },
  { label: 0, colour: 'blue' as const },
  { label: 1, colour: 'red' as const },
  { label: 2, colour: 'blue' as const },
];

test('plotTopLosses ranks images by -ln p(actual) and titles them in red when wrong', async () => {
  const ds = await tinyDataset({ images });
  const model = brightestChannelModel();
  const r = await plotTopLosses(model, ds, { k: 4, show: false });
  assert.deepEqual(new Set(r.top.slice(0, 3).map((t) => t.index)), new Set([1, 3, 4]));
  const batch = await ds.load([0, 1, 2, 3, 4, 5]);
  const probs = (model.predict(batch.xs) as tf.Tensor).arraySync() as number[][];
  for (const t of r.top) {
    assert.equal(t.file, ds.files[t.index]);
    assert.equal(t.actual, images[t.index].label);
    assert.ok(Math.abs(t.probability - probs[t.index][t.actual]) < 1e-5);
    assert.ok(Math.abs(t.loss + Math.log(probs[t.index][t.actual])) < 1e-4);
    assert.equal(t.predicted, probs[t.index].indexOf(Math.max(...probs[t.index])));
  }
  for (let i = 1; i < r.top.length; i++)
    assert.ok(r.top[i - 1].loss >= r.top[i].loss, 'sorted by loss');
  assert.equal(r.top[3].predicted, r.top[3].actual, 'the fourth is right');
  const meta = await sharp(r.png).metadata();
  assert.ok(meta.width! > 3 * 128 && meta.height! > 2 * 128, `${meta.width}x${meta.height}`);
  // Red title pixels exist (wrong predictions), and green ones (the fourth tile).
  const { data, info } = await sharp(r.png).raw().toBuffer({ resolveWithObject: true });
  let red = 0,
    green = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (data[i] > 150 && data[i + 1] < 90 && data[i + 2] < 90) red++;
    if (data[i + 1] > 100 && data[i] < 60 && data[i + 2] < 90) green++;
  }
  assert.ok(red > 50 && green > 50, `red ${red}, green ${green}`);
});

test('plotTopLosses agrees from cached features and from evaluateWithPredictions() probabilities', async () => {
  const ds = await tinyDataset({ images });
  const model = brightestChannelModel();
  const fromImages = await plotTopLosses(model, ds, { k: 6, show: false });
  const feats = await cachedFeatures(model, ds, {
    layer: model.layers[0].name,
    dir: null,
    shuffle: false,
  });
  const fromFeatures = await plotTopLosses(model, feats, { k: 6, show: false });
  const ev = await evaluateWithPredictions(model, ds, { show: false });
  const fromEval = await plotTopLosses(null, ds, {
    k: 6,
    probabilities: ev.probabilities,
    show: false,
  });
  for (const other of [fromFeatures, fromEval]) {
    assert.deepEqual(
      other.top.map((t) => t.index),
      fromImages.top.map((t) => t.index),
    );
    other.top.forEach((t, i) => assert.ok(Math.abs(t.loss - fromImages.top[i].loss) < 1e-4));
  }
  await assert.rejects(
    plotTopLosses(null, ds, { probabilities: new Float32Array(5), show: false }),
    /evaluateWithPredictions\(model, sameDataset\)/,
  );
  await assert.rejects(plotTopLosses(model, ds, { k: 0, show: false }), /positive integer/);
});
