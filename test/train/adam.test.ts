// The one-pass Adam (lib/train/adam.ts) is Keras' update: checked against the formula in float64,
// against tfjs' Adam (they differ only in where ε sits), and through getWeights/setWeights.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../../lib/train/adam';

before(async () => {
  await tf.setBackend('cpu');
});

/** Keras (TF2) Adam in float64, the reference. */
function kerasAdam(
  w: number[],
  grads: number[][],
  lr: number,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-7,
): number[] {
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const out = [...w];
  grads.forEach((g, k) => {
    const t = k + 1;
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    for (let j = 0; j < out.length; j++) {
      m[j] = b1 * m[j] + (1 - b1) * g[j];
      v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
      out[j] -= (alpha * m[j]) / (Math.sqrt(v[j]) + eps);
    }
  });
  return out;
}

const start = [0.5, -1.25, 2, 0, 3e-3, -7];
const grads = [
  [0.1, -0.2, 0.3, 0, 1e-6, 5],
  [0.05, 0.4, -0.3, 0.2, -1e-6, 4],
  [-0.1, 0.1, 0.2, -0.2, 0, -3],
];

function run(opt: tf.Optimizer, name: string): number[] {
  const w = tf.variable(tf.tensor1d(start), true, name);
  for (const g of grads) opt.applyGradients([{ name, tensor: tf.tensor1d(g) }]);
  const out = Array.from(w.dataSync());
  w.dispose();
  return out;
}

test("one-pass Adam follows Keras' update step by step (float32 against float64)", () => {
  const got = run(new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7), 'adam_fused_a');
  const want = kerasAdam(start, grads, 0.01);
  got.forEach((x, j) =>
    assert.ok(Math.abs(x - want[j]) < 1e-6, `w[${j}] ${x} vs Keras ${want[j]}`),
  );
  // And it moved: a no-op optimizer would fail the comparison above, this says by how much.
  assert.ok(Math.abs(got[0] - start[0]) > 0.02);
});

test("one-pass Adam matches tfjs' Adam where √v ≫ ε, and keeps its state in the same place", () => {
  const fused = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  const stock = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  const a = run(fused, 'adam_fused_b');
  const b = run(stock, 'adam_stock_b');
  [0, 1, 2, 5].forEach((j) =>
    assert.ok(Math.abs(a[j] - b[j]) < 1e-6, `w[${j}] ${a[j]} vs tfjs ${b[j]}`),
  );
  assert.equal(fused.iterations, 3);
  assert.equal(FusedAdamOptimizer.className, 'Adam');
});

test('one-pass Adam: getWeights/setWeights carry m, v and the step count to a fresh optimizer', async () => {
  const a = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  const w = tf.variable(tf.tensor1d(start), true, 'adam_fused_c');
  a.applyGradients([{ name: 'adam_fused_c', tensor: tf.tensor1d(grads[0]) }]);
  const saved = await a.getWeights();
  const b = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  await b.setWeights(saved);
  const copy = tf.variable(w.clone() as tf.Tensor1D, true, 'adam_fused_c_copy');
  a.applyGradients([{ name: 'adam_fused_c', tensor: tf.tensor1d(grads[1]) }]);
  // b's moments are keyed by position, as in tfjs: the same first variable.
  b.applyGradients([{ name: 'adam_fused_c_copy', tensor: tf.tensor1d(grads[1]) }]);
  const [x, y] = [Array.from(w.dataSync()), Array.from(copy.dataSync())];
  x.forEach((v, j) => assert.ok(Math.abs(v - y[j]) < 1e-7, `w[${j}] ${v} vs restored ${y[j]}`));
});

test('one-pass Adam updates in place only data nothing else holds: a clone taken before a step keeps its values', () => {
  const opt = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  const w = tf.variable(tf.tensor1d(start), true, 'adam_fused_d');
  opt.applyGradients([{ name: 'adam_fused_d', tensor: tf.tensor1d(grads[0]) }]);
  const dataBefore = w.dataId;
  const afterOne = Array.from(w.dataSync());
  // Sole owner: the step writes into the variable's own array.
  opt.applyGradients([{ name: 'adam_fused_d', tensor: tf.tensor1d(grads[1]) }]);
  assert.equal(w.dataId, dataBefore, 'updated in place');
  // A clone (what EarlyStopping keeps as the best weights) shares the data: the step must not touch it.
  const snapshot = w.clone();
  const snapValues = Array.from(snapshot.dataSync());
  opt.applyGradients([{ name: 'adam_fused_d', tensor: tf.tensor1d(grads[2]) }]);
  assert.deepEqual(Array.from(snapshot.dataSync()), snapValues, 'the clone is unchanged');
  assert.notDeepEqual(Array.from(w.dataSync()), snapValues, 'the variable moved');
  assert.notDeepEqual(snapValues, afterOne);
  const want = kerasAdam(start, grads, 0.01);
  Array.from(w.dataSync()).forEach((x, j) => assert.ok(Math.abs(x - want[j]) < 1e-6, `w[${j}]`));
  snapshot.dispose();
  w.dispose();
});
