// setRandomSeed fixes tfjs' initialisers and dropout; runDir derives from the notebook's name.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setRandomSeed, clearRandomSeed, withRandomSeed } from '../../lib/seed';
import { runDir, notebookName, CACHE_DIR } from '../../lib/config';

function freshDenseWeights(): number[] {
  const layer = tf.layers.dense({ units: 4, inputShape: [3] });
  const m = tf.sequential({ layers: [layer] });
  const w = Array.from(m.getWeights()[0].dataSync());
  m.dispose();
  return w;
}

function dropoutMask(): number[] {
  return Array.from(tf.dropout(tf.ones([16]), 0.5).dataSync());
}

test('setRandomSeed: same seed, same initial weights and dropout masks; another seed differs', () => {
  setRandomSeed(42);
  const a = [freshDenseWeights(), dropoutMask()];
  setRandomSeed(42);
  const b = [freshDenseWeights(), dropoutMask()];
  setRandomSeed(7);
  const c = [freshDenseWeights(), dropoutMask()];
  clearRandomSeed();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], c[0]);
  assert.notDeepEqual(a[1], c[1]);
});

test('withRandomSeed runs reproducibly and leaves the caller stream where it was', async () => {
  setRandomSeed(1);
  const first = Math.random();
  setRandomSeed(1);
  const inner1 = await withRandomSeed(5, async () => freshDenseWeights());
  const after = Math.random();
  const inner2 = await withRandomSeed(5, async () => freshDenseWeights());
  clearRandomSeed();
  assert.deepEqual(inner1, inner2);
  assert.equal(after, first, 'the outer stream did not move');
});

test('setRandomSeed refuses a non-integer seed', () => {
  assert.throws(() => setRandomSeed(1.5), /integer/);
});

test('runDir: <cache>/runs/<notebook name>, so a copy of a notebook gets its own folder', () => {
  const saved = process.env.JPY_SESSION_NAME;
  try {
    process.env.JPY_SESSION_NAME = 'notebooks/01-resnet50-stanford-cars-transfer-learning.ipynb';
    assert.equal(notebookName(), '01-resnet50-stanford-cars-transfer-learning');
    assert.equal(
      runDir(),
      path.join(CACHE_DIR, 'runs', '01-resnet50-stanford-cars-transfer-learning'),
    );
    process.env.JPY_SESSION_NAME =
      'notebooks/01-resnet50-stanford-cars-transfer-learning-Copy1.ipynb';
    assert.equal(
      runDir(),
      path.join(CACHE_DIR, 'runs', '01-resnet50-stanford-cars-transfer-learning-Copy1'),
    );
    delete process.env.JPY_SESSION_NAME;
    assert.equal(runDir(), path.join(CACHE_DIR, 'runs', 'interactive'));
    assert.equal(runDir('my run/1'), path.join(CACHE_DIR, 'runs', 'my_run_1'));
  } finally {
    if (saved === undefined) delete process.env.JPY_SESSION_NAME;
    else process.env.JPY_SESSION_NAME = saved;
  }
});
