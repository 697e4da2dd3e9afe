// featureStats: the scale of what the frozen base hands the head, from the cache, equal to the
// statistics of the bottom model's output computed directly.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildHead } from '../../lib/train/heads';
import { cachedFeatures } from '../../lib/train/cache';
import { featureStats } from '../../lib/train/feature-stats';
import { bottomModel } from '../../lib/train/graph';
import { freezeAll } from './util';
import { fakeDataset, tinyBase, setDeterministicWeights } from './fake-dataset';

before(async () => {
  await tf.setBackend('cpu');
});

test("featureStats matches the mean, std and max |value| of the frozen part's output", async () => {
  const base = tinyBase();
  const model = buildHead(base, [{ type: 'flatten' }, { type: 'output', classes: 3 }]);
  setDeterministicWeights(model, 3);
  freezeAll(base);
  const data = fakeDataset({ n: 10, batchSize: 4 });
  const features = await cachedFeatures(model, data, { dir: null, shuffle: false });
  const stats = await featureStats(features);

  const images: tf.Tensor[] = [];
  for await (const b of data.batches()) images.push(b.xs);
  const x = tf.concat(images);
  const out = bottomModel(model, features.boundary).predict(x) as tf.Tensor;
  const values = Array.from(await out.data());
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  const maxAbs = Math.max(...values.map(Math.abs));

  assert.equal(stats.boundary, features.boundary);
  assert.equal(stats.size, 10);
  assert.equal(stats.valuesPerImage, values.length / 10);
  assert.ok(std > 0, 'the features are not constant, so the check can fail');
  assert.ok(Math.abs(stats.mean - mean) < 1e-5, `mean ${stats.mean} vs ${mean}`);
  assert.ok(Math.abs(stats.std - std) < 1e-5, `std ${stats.std} vs ${std}`);
  assert.ok(Math.abs(stats.maxAbs - maxAbs) < 1e-5, `max ${stats.maxAbs} vs ${maxAbs}`);
});
