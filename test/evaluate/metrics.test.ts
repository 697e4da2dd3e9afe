import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyScore,
  argMax,
  categoricalCrossentropy,
  confusionMatrix,
  inTopK,
  topKAccuracy,
  topKIndices,
} from '../../lib/evaluate/metrics';
import { classificationReport } from '../../lib/evaluate/report';

test('argMax takes the first maximum (tf.argMax semantics)', () => {
  assert.equal(argMax([0.1, 0.7, 0.2]), 1);
  assert.equal(argMax([0.4, 0.2, 0.4]), 0);
  assert.equal(argMax([0.25, 0.25, 0.25, 0.25]), 0);
});

test('topKAccuracy by hand, without ties', () => {
  const scores = [
    [0.5, 0.3, 0.2], // label 0: top-1 hit
    [0.5, 0.3, 0.2], // label 1: top-2 hit only
    [0.5, 0.3, 0.2], // label 2: only top-3
    [0.1, 0.1, 0.8], // label 2: top-1 hit
  ];
  const y = [0, 1, 2, 2];
  assert.equal(topKAccuracy(y, scores, 1), 2 / 4);
  assert.equal(topKAccuracy(y, scores, 2), 3 / 4);
  assert.equal(topKAccuracy(y, scores, 3), 1);
  // Flat row-major input gives the same numbers.
  assert.equal(topKAccuracy(y, { data: new Float32Array(scores.flat()), numClasses: 3 }, 2), 3 / 4);
});

test('top-k ties straddling the boundary count as hits (tf.math.in_top_k)', () => {
  // Class 1 and 2 tie for second place: with k=2 both are "in the top 2".
  const row = [0.5, 0.25, 0.25];
  assert.equal(inTopK(row, 1, 2), true);
  assert.equal(inTopK(row, 2, 2), true);
  assert.equal(inTopK(row, 1, 1), false);
  // All equal: every class is in the top 1 under in_top_k, while argmax accuracy credits only class 0.
  const flat = [0.25, 0.25, 0.25, 0.25];
  assert.equal(topKAccuracy([0, 1, 2, 3], [flat, flat, flat, flat], 1), 1);
  assert.equal(accuracyScore([0, 1, 2, 3], [flat, flat, flat, flat].map(argMax)), 0.25);
  // Non-finite target score never counts; out-of-range target never counts.
  assert.equal(inTopK([NaN, 0.1], 0, 2), false);
  assert.equal(inTopK([0.9, 0.1], 5, 2), false);
  // topKIndices: best first, lower index first among ties.
  assert.deepEqual(topKIndices([0.1, 0.3, 0.3, 0.2], 3), [1, 2, 3]);
});

test('confusionMatrix: rows are true classes, columns predictions; absent classes are zero rows', () => {
  const cm = confusionMatrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 3);
  assert.deepEqual(cm, [
    [1, 1, 0],
    [1, 2, 0],
    [0, 0, 0],
  ]);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /outside 0\.\.2/);
  assert.throws(() => confusionMatrix([0], [0, 1], 3), /1 true labels but 2 predictions/);
});

test('classificationReport matches a hand computation (sklearn conventions)', () => {
  // Class 'c' is never predicted (precision 0/0 -> 0); class 'd' is absent everywhere (support 0).
  const yTrue = [0, 0, 0, 1, 1, 2];
  const yPred = [0, 0, 1, 1, 0, 1];
  const r = classificationReport(yTrue, yPred, ['a', 'b', 'c', 'd'], { show: false });
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-12, `${x} != ${y}`);
  // a: tp 2, predicted 3, support 3
  close(r.classes[0].precision, 2 / 3);
  close(r.classes[0].recall, 2 / 3);
  close(r.classes[0].f1, 2 / 3);
  // b: tp 1, predicted 3, support 2 -> p 1/3, r 1/2, f1 = 2·(1/6)/(5/6) = 0.4
  close(r.classes[1].precision, 1 / 3);
  close(r.classes[1].recall, 1 / 2);
  close(r.classes[1].f1, 0.4);
  assert.deepEqual(
    [r.classes[2].precision, r.classes[2].recall, r.classes[2].f1, r.classes[2].support],
    [0, 0, 0, 1],
  );
  assert.deepEqual(
    [r.classes[3].precision, r.classes[3].recall, r.classes[3].f1, r.classes[3].support],
    [0, 0, 0, 0],
  );
  close(r.accuracy, 3 / 6);
  close(r.macroAvg.precision, (2 / 3 + 1 / 3) / 4);
  close(r.macroAvg.f1, (2 / 3 + 0.4) / 4);
  close(r.weightedAvg.recall, (3 * (2 / 3) + 2 * 0.5) / 6);
  assert.equal(r.weightedAvg.support, 6);
  // sklearn's text layout (digits=2).
  const expected = [
    '              precision    recall  f1-score   support',
    '',
    '           a       0.67      0.67      0.67         3',
    '           b       0.33      0.50      0.40         2',
    '           c       0.00      0.00      0.00         1',
    '           d       0.00      0.00      0.00         0',
    '',
    '    accuracy                           0.50         6',
    '   macro avg       0.25      0.29      0.27         6',
    'weighted avg       0.44      0.50      0.47         6',
    '',
  ].join('\n');
  assert.equal(r.text, expected);
  assert.match(r.html, /<td style="text-align:left">c<\/td>/);
  assert.match(r.html, /weighted avg/);
});

test('categoricalCrossentropy like Keras: renormalised, clipped, with label smoothing', () => {
  const p = [
    [0.7, 0.2, 0.1],
    [0.1, 0.1, 0.8],
  ];
  const y = [0, 1];
  const plain = (-Math.log(0.7) - Math.log(0.1)) / 2;
  assert.ok(Math.abs(categoricalCrossentropy(y, p) - plain) < 1e-12);
  // Smoothing 0.3 with 3 classes: target = 0.8 on the true class, 0.1 elsewhere.
  const t = (row: number[], c: number) =>
    -row.reduce((a, v, j) => a + (j === c ? 0.8 : 0.1) * Math.log(v), 0);
  assert.ok(Math.abs(categoricalCrossentropy(y, p, 0.3) - (t(p[0], 0) + t(p[1], 1)) / 2) < 1e-12);
  // A zero probability is clipped to 1e-7 instead of giving Infinity.
  assert.ok(Math.abs(categoricalCrossentropy([1], [[1, 0]]) - -Math.log(1e-7)) < 1e-9);
});
