// Readings on crafted histories and results: each verdict where the numbers support it, and only there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  differenceInterval,
  mcnemarExact,
  readClasses,
  readComparison,
  readHistory,
  readInitialLoss,
  readResult,
  wilsonInterval,
} from '../../lib/evaluate/readings';
import type { History } from '../../lib/train/types';

function history(
  loss: number[],
  valLoss: number[],
  extra: { acc?: number[]; valAcc?: number[]; lr?: number[]; restoredEpoch?: number } = {},
): History {
  return {
    epochs: loss.map((l, i) => ({
      epoch: i,
      lr: extra.lr?.[i] ?? 1e-3,
      seconds: 1,
      metrics: {
        loss: l,
        val_loss: valLoss[i],
        ...(extra.acc ? { accuracy: extra.acc[i] } : {}),
        ...(extra.valAcc ? { val_accuracy: extra.valAcc[i] } : {}),
      },
    })),
    phases: [{ name: 'test', startEpoch: 0 }],
    ...(extra.restoredEpoch !== undefined ? { restoredEpoch: extra.restoredEpoch } : {}),
  };
}
const quiet = { show: false } as const;

test('readHistory: overfitting — validation loss past its minimum and rising while training loss falls', () => {
  const r = readHistory(
    history([2.0, 1.5, 1.1, 0.8, 0.5, 0.3], [2.1, 1.7, 1.5, 1.6, 1.8, 2.0], {
      acc: [0.3, 0.5, 0.7, 0.8, 0.9, 0.97],
      valAcc: [0.3, 0.45, 0.5, 0.5, 0.49, 0.48],
    }),
    quiet,
  );
  assert.equal(r.verdict, 'overfitting');
  assert.match(r.text, /bottomed out at epoch 3/);
  assert.match(r.text, /gap of 49\.0 points/);
});

test('readHistory: still improving at the last epoch is not called overfitting (notebook 01 quick)', () => {
  // Validation 72.9% at the last epoch, val_loss 1.995 vs loss 1.926: under-trained.
  const r = readHistory(
    history(
      [2.5, 2.4, 2.3, 2.2, 2.1, 2.05, 2.0, 1.96, 1.93, 1.926],
      [2.49, 2.4, 2.32, 2.25, 2.18, 2.12, 2.07, 2.03, 2.01, 1.995],
    ),
    { ...quiet, plannedEpochs: 10 },
  );
  assert.equal(r.verdict, 'still improving');
  assert.doesNotMatch(r.text, /model overfits/);
  assert.match(r.text, /All 10 planned epochs ran/);
});

test('readHistory: plateau', () => {
  const r = readHistory(
    history([1.5, 1.0, 0.9, 0.88, 0.87, 0.87, 0.869], [1.4, 1.0, 0.95, 0.951, 0.949, 0.95, 0.9495]),
    quiet,
  );
  assert.equal(r.verdict, 'plateau');
});

test('readHistory: training loss at ln(C) is "learned nothing"; 8% under it "learned little" (notebook 03 from scratch)', () => {
  /** A 43-class run's reading from its training loss / validation loss / accuracies, epoch by epoch. */
  const read = (loss: number[], val: number[], acc: number[], valAcc: number[]) =>
    readHistory(history(loss, val, { acc, valAcc }), { ...quiet, classes: 43 });
  const flat = read(
    [3.78, 3.77, 3.765, 3.762, 3.7615, 3.7615],
    [3.77, 3.77, 3.765, 3.763, 3.762, 3.762],
    [0.02, 0.021, 0.019, 0.022, 0.02, 0.018],
    [0.02, 0.023, 0.023, 0.023, 0.023, 0.023],
  );
  assert.equal(flat.verdict, 'not learning');
  assert.match(flat.text, /ln\(43\) = 3\.7612/);
  assert.match(flat.text, /learned nothing/);
  assert.doesNotMatch(flat.text, /memoris|overfit/);
  // machine C's from-scratch run: 3.7596 -> 3.4586, training accuracy 4.2% (1.8x chance)
  const little = read(
    [3.76, 3.7, 3.6, 3.55, 3.5, 3.4586],
    [3.72, 3.6, 3.5, 3.42, 3.35, 3.3489],
    [0.02, 0.025, 0.03, 0.035, 0.04, 0.042],
    [0.02, 0.03, 0.035, 0.04, 0.045, 0.047],
  );
  assert.equal(little.verdict, 'not learning');
  assert.match(
    little.text,
    /learned little in this run \(its loss is 8\.0% below a uniform guess's\)/,
  );
  assert.doesNotMatch(little.text, /learned nothing/);
});

test('readHistory: EarlyStopping restore, early stop and learning-rate cuts', () => {
  const r = readHistory(
    history([2, 1.5, 1.2, 1.0, 0.9], [2, 1.6, 1.4, 1.45, 1.5], {
      lr: [1e-3, 1e-3, 1e-3, 5e-4, 2.5e-4],
      restoredEpoch: 2,
    }),
    { ...quiet, plannedEpochs: 20 },
  );
  assert.match(r.text, /EarlyStopping restored the weights of epoch 3 \(val_loss 1\.4000\)/);
  assert.match(r.text, /stopped after 5 of 20 planned epochs/);
  assert.match(
    r.text,
    /cut 2 times, from epoch 4 \(0\.001 → 0\.0005\), epoch 5 \(0\.0005 → 0\.00025\)/,
  );
  assert.equal(r.facts.lrCuts, 2);
  assert.equal(readHistory(history([1, 0.9], [1, 0.95]), quiet).facts.lrCuts, 0);
});

test('wilsonInterval, differenceInterval and mcnemarExact agree with textbook values', () => {
  const [lo, hi] = wilsonInterval(81, 263); // Newcombe (1998) example: 0.2553–0.3662
  assert.ok(Math.abs(lo - 0.2553) < 1e-3 && Math.abs(hi - 0.3662) < 1e-3, `${lo} ${hi}`);
  const [dl, du] = differenceInterval(48, 80, 56, 70); // Newcombe (1998): 56/70 − 48/80, 0.0524–0.3339
  assert.ok(Math.abs(dl - 0.0524) < 1e-3 && Math.abs(du - 0.3339) < 1e-3, `${dl} ${du}`);
  assert.ok(Math.abs(mcnemarExact(1, 9) - 0.021484375) < 1e-12); // 2·P(X≤1), X~B(10, ½)
  assert.equal(mcnemarExact(0, 0), 1);
  assert.equal(mcnemarExact(5, 5), 1);
});

test('readResult: near chance vs far above chance, with the interval for this many images', () => {
  // Notebook 01's untrained model: 15.6% on 96 images with 12 classes is not "at chance" … nor far above.
  const r = readResult({ accuracy: 15 / 96, size: 96 }, { ...quiet, classes: 12 });
  assert.equal(r.verdict, 'above chance');
  assert.match(r.text, /15\.6% on 96 images \(95% interval 9\.7%–24\.2%\)/);
  assert.equal(
    readResult({ accuracy: 9 / 96, size: 96 }, { ...quiet, classes: 12 }).verdict,
    'at chance',
  );
  assert.equal(
    readResult({ accuracy: 0.729, size: 96 }, { ...quiet, classes: 12 }).verdict,
    'far above chance',
  );
});

test('readComparison: a one-image swing is within noise; a large paired gain is real', () => {
  const noise = readComparison(
    { accuracy: 60 / 96, size: 96 },
    { accuracy: 64 / 96, size: 96 },
    { ...quiet, names: ['transfer learning', 'fine-tuning'] },
  );
  assert.equal(noise.verdict, 'within noise');
  assert.match(noise.text, /^Fine-tuning is 4\.2 points above transfer learning/);
  const labels = Array.from({ length: 100 }, (_, i) => i % 5);
  const a = labels.map((l, i) => (i < 50 ? l : (l + 1) % 5)); // 50 right
  const b = labels.map((l, i) => (i < 80 ? l : (l + 1) % 5)); // 80 right, a superset
  const real = readComparison(
    { accuracy: 0.5, size: 100, predicted: a, labels },
    { accuracy: 0.8, size: 100, predicted: b, labels },
    { ...quiet, names: ['from scratch', 'fine-tuning'] },
  );
  assert.equal(real.verdict, 'better');
  assert.match(real.text, /30 are right only with fine-tuning and 0 only with from scratch/);
  // Same accuracies but opposite images: paired test sees the disagreement, still within noise.
  const swapped = readComparison(
    { accuracy: 0.5, size: 100, predicted: a, labels },
    {
      accuracy: 0.5,
      size: 100,
      predicted: labels.map((l, i) => (i >= 50 ? l : (l + 1) % 5)),
      labels,
    },
    { ...quiet, names: ['A', 'B'] },
  );
  assert.equal(swapped.verdict, 'within noise');
});

test('readInitialLoss: a verdict against ln(C) with a stated tolerance', () => {
  const ok = readInitialLoss(4.009, { ...quiet, classes: 43 });
  assert.equal(ok.verdict, 'as expected');
  assert.match(
    ok.text,
    /4\.0090 against ln\(43\) = 3\.7612 .*1\.07×; accepted: within 25%\)\. The check passes/,
  );
  assert.equal(readInitialLoss(13.4, { ...quiet, classes: 12 }).verdict, 'too high');
  assert.equal(readInitialLoss(0.5, { ...quiet, classes: 12 }).verdict, 'too low');
});

test('readClasses: zero-recall classes and the top confusions', () => {
  const r = readClasses(
    {
      classNames: ['stop', 'yield', 'priority', 'no entry'],
      labels: [0, 0, 1, 1, 1, 2, 2, 3],
      predicted: [0, 0, 2, 2, 0, 2, 2, 3],
    },
    quiet,
  );
  assert.equal(r.verdict, 'zero-recall classes');
  assert.match(r.text, /1 of 4 classes have zero recall .*: "yield"\./);
  assert.match(
    r.text,
    /"yield" taken for "priority" \(2 of 3\); "yield" taken for "stop" \(1 of 3\)/,
  );
  const all = readClasses({ classNames: ['a', 'b'], labels: [0, 1], predicted: [0, 1] }, quiet);
  assert.equal(all.verdict, 'every class recalled');
  assert.doesNotMatch(all.text, /confusions/);
});

test('readHistory: a restore of the last epoch is not called "not the last"; validation above training is said so', () => {
  const r = readHistory(
    history([2, 1.5, 1.2], [1.9, 1.4, 1.1], {
      acc: [0.2, 0.3, 0.4],
      valAcc: [0.3, 0.45, 0.55],
      restoredEpoch: 2,
    }),
    quiet,
  );
  assert.match(
    r.text,
    /The last epoch was also EarlyStopping's best \(val_loss 1\.1000\), so the model keeps its weights\./,
  );
  assert.doesNotMatch(r.text, /not the last/);
  assert.match(r.text, /validation 15\.0 points above training/);
  assert.doesNotMatch(r.text, /gap of -/);
});
