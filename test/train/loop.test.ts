// trainPhase: learning, History, memory, stopping, interruption, Keras BatchNorm/Dropout semantics.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildHead, headBoundary } from '../../lib/train/heads';
import {
  compile,
  adam,
  sgd,
  rmsprop,
  topKCategoricalAccuracy,
  learningRate,
  getCompiled,
} from '../../lib/train/compile';
import { trainPhase, evaluateMetrics } from '../../lib/train/loop';
import {
  EarlyStopping,
  ReduceLROnPlateau,
  ModelCheckpoint,
  CSVLogger,
  type TrainCallback,
  type TrainContext,
  TerminateOnNaN,
} from '../../lib/train/callbacks';
import { loadCheckpoint, loadCheckpointWeights } from '../../lib/train/checkpoint';
import { mergeHistories, historySeconds, historySummary } from '../../lib/train/history';
import { fineTune } from '../../lib/train/finetune';
import { planGraph, runPlan } from '../../lib/train/graph';
import { fakeDataset, tinyBase, setDeterministicWeights } from './fake-dataset';
import { freezeAll, phaseMarks } from './util';
import { freeze, unfreeze } from '../../lib/models/freeze';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

function model(opts: { dropout?: number; batchNorm?: boolean } = {}) {
  const base = tinyBase({ batchNorm: opts.batchNorm });
  freezeAll(base);
  const m = buildHead(base, [
    { type: 'globalAveragePooling' },
    { type: 'dense', units: 8, activation: 'relu' },
    ...(opts.dropout ? [{ type: 'dropout' as const, rate: opts.dropout }] : []),
    { type: 'output', classes: 3 },
  ]);
  setDeterministicWeights(m, 11);
  return { base, model: m };
}

test('trainPhase learns, returns a Keras-keyed History and numbers epochs from initialEpoch', async () => {
  const { model: m } = model();
  compile(m, {
    optimizer: adam({ learningRate: 0.02 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy', topKCategoricalAccuracy(2)],
  });
  const train = fakeDataset({ n: 24, batchSize: 8, shuffle: true });
  const val = fakeDataset({ n: 12, batchSize: 8, seed: 9 });
  const h = await trainPhase({
    model: m,
    train,
    validation: val,
    initialEpoch: 2,
    epochs: 8,
    name: 'head',
    verbose: 0,
  });
  assert.deepEqual(
    h.epochs.map((e) => e.epoch),
    [2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(Object.keys(h.epochs[0].metrics).sort(), [
    'accuracy',
    'loss',
    'top_k_categorical_accuracy',
    'val_accuracy',
    'val_loss',
    'val_top_k_categorical_accuracy',
  ]);
  assert.deepEqual(phaseMarks(h), [{ name: 'head', startEpoch: 0 }]);
  assert.ok(h.epochs.every((e) => e.lr === 0.02 && e.seconds > 0));
  assert.ok(h.epochs[5].metrics.loss < h.epochs[0].metrics.loss, 'loss decreases');
  // The last epoch's val_loss is what evaluateMetrics reports on the same data.
  const ev = await evaluateMetrics(m, val, { verbose: 0 });
  assert.ok(Math.abs(ev.loss - h.epochs[5].metrics.val_loss) < 1e-5);
  assert.match(
    historySummary(h, { topK: 2 }),
    /^\[Time\] head: [\d.]+ s for 6 epochs \([\d.]+ s per epoch\)\n\[Best\] Epoch \d+ \| val_loss=.*val_acc=.*val_top2_acc=/,
  );
});

test('an untrained model scores about chance (the baseline call)', async () => {
  const { model: m } = model();
  // A zero output layer gives uniform probabilities: loss = ln(classes) exactly.
  const out = m.layers[m.layers.length - 1];
  const zeros = out.getWeights().map((w) => tf.zerosLike(w));
  out.setWeights(zeros);
  tf.dispose(zeros);
  compile(m, { loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const ev = await evaluateMetrics(m, fakeDataset({ n: 9, batchSize: 4 }), { verbose: 0 });
  assert.ok(Math.abs(ev.loss - Math.log(3)) < 1e-6, String(ev.loss));
});

test('L2 penalties are part of the reported loss, as in Keras', async () => {
  const base = tinyBase();
  freezeAll(base);
  const m = buildHead(base, [{ type: 'flatten' }, { type: 'output', classes: 3, l2: 0.5 }]);
  const plain = buildHead(base, [{ type: 'flatten' }, { type: 'output', classes: 3 }]);
  setDeterministicWeights(m, 3);
  plain.layers[plain.layers.length - 1].setWeights(m.layers[m.layers.length - 1].getWeights());
  compile(m, { loss: 'sparseCategoricalCrossentropy' });
  compile(plain, { loss: 'sparseCategoricalCrossentropy' });
  const ds = fakeDataset({ n: 6, batchSize: 6 });
  const withL2 = await evaluateMetrics(m, ds, { verbose: 0 });
  const without = await evaluateMetrics(plain, ds, { verbose: 0 });
  const kernel = m.layers[m.layers.length - 1].getWeights()[0];
  const penalty = 0.5 * tf.sum(tf.square(kernel)).dataSync()[0];
  assert.ok(
    Math.abs(withL2.loss - without.loss - penalty) < 1e-4,
    `${withL2.loss} - ${without.loss} vs ${penalty}`,
  );
});

test('tf.memory().numTensors is the same after every epoch (callbacks included)', async () => {
  const { model: m } = model({ dropout: 0.3, batchNorm: true });
  compile(m, {
    optimizer: sgd({ learningRate: 0.05, momentum: 0.9 }),
    loss: 'categoricalCrossentropy',
    labelSmoothing: 0.1,
    metrics: ['accuracy'],
  });
  const dir = tmpDir('mem-');
  const counts: number[] = [];
  const probe: TrainCallback = { onEpochEnd: () => void counts.push(tf.memory().numTensors) };
  await trainPhase({
    model: m,
    train: fakeDataset({ n: 16, batchSize: 5 }),
    validation: fakeDataset({ n: 6, batchSize: 4 }),
    epochs: 6,
    verbose: 0,
    callbacks: [
      new EarlyStopping({ patience: 100, restoreBestWeights: true }),
      new ReduceLROnPlateau({ patience: 1, factor: 0.5 }),
      new ModelCheckpoint(path.join(dir, 'best.keras'), { saveBestOnly: true }),
      new CSVLogger(path.join(dir, 'log.csv')),
      probe,
    ],
  });
  // Epoch 1 creates the optimizer's slots; from then on nothing may accumulate.
  assert.equal(counts.length, 6);
  assert.deepEqual(counts.slice(1), Array(5).fill(counts[1]), `numTensors per epoch: ${counts}`);
});

test('a head with the wrong number of classes is refused with the fix', async () => {
  const { model: m } = model();
  compile(m, { loss: 'sparseCategoricalCrossentropy' });
  await assert.rejects(
    trainPhase({ model: m, train: fakeDataset({ n: 8, classes: 4 }), epochs: 1, verbose: 0 }),
    /outputs 3 classes but the dataset .* has 4 \(class0, class1, class2, class3\)\. Build the head with 4 classes/,
  );
});

test('stopTraining from a batch callback stops after that batch', async () => {
  const { model: m } = model();
  compile(m, { loss: 'sparseCategoricalCrossentropy' });
  let batches = 0;
  const h = await trainPhase({
    model: m,
    train: fakeDataset({ n: 40, batchSize: 4 }),
    epochs: 5,
    verbose: 0,
    callbacks: [
      {
        onBatchEnd: (b, _l, ctx) => {
          batches++;
          if (b === 2) ctx.stopTraining = true;
        },
      },
    ],
  });
  assert.equal(batches, 3);
  assert.equal(h.epochs.length, 1);
});

test('an exception in a callback leaves the last checkpoint loadable and the CSV complete up to the last epoch', async () => {
  const { model: m } = model();
  compile(m, {
    optimizer: adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const dir = tmpDir('int-');
  const ckpt = path.join(dir, 'every.keras');
  const wckpt = path.join(dir, 'weights.bin');
  const h5ckpt = path.join(dir, 'best.weights.h5');
  const csv = path.join(dir, 'log.csv');
  let snapshot: Float32Array[] = [];
  const boom: TrainCallback = {
    onEpochEnd: (epoch, _l, ctx) => {
      // A copy: the optimizer updates the weights' arrays in place (tfjs' getWeights are the live variables).
      snapshot = ctx.model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
    },
    onBatchEnd: (batch, _l, ctx) => {
      if (ctx.history.epochs.length === 3 && batch === 1)
        throw new Error('interrupted by the user');
    },
  };
  await assert.rejects(
    trainPhase({
      model: m,
      train: fakeDataset({ n: 12, batchSize: 4 }),
      validation: fakeDataset({ n: 6, batchSize: 3 }),
      epochs: 10,
      verbose: 0,
      callbacks: [
        new ModelCheckpoint(ckpt),
        new ModelCheckpoint(wckpt, { saveWeightsOnly: true }),
        new ModelCheckpoint(h5ckpt, { saveWeightsOnly: true }),
        new CSVLogger(csv),
        boom,
      ],
    }),
    /interrupted by the user/,
  );
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'epoch,accuracy,loss,lr,val_accuracy,val_loss');
  assert.deepEqual(
    rows.slice(1).map((r) => r.split(',')[0]),
    ['0', '1', '2'],
  );
  // The checkpoint holds the weights of the end of epoch 3 (not the half-trained epoch 4).
  const loaded = await loadCheckpoint(ckpt);
  loaded
    .getWeights()
    .forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(snapshot[i])));
  const { model: fresh } = model();
  await loadCheckpointWeights(fresh, wckpt);
  fresh
    .getWeights()
    .forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(snapshot[i])));
  const { model: fromH5 } = model();
  await loadCheckpointWeights(fromH5, h5ckpt); // Keras HDF5 layout
  fromH5
    .getWeights()
    .forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(snapshot[i])));
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temp files left',
  );
  loaded.dispose();
});

test('a frozen BatchNormalization runs in inference mode while training; Dropout drops only in training', async () => {
  const base = tinyBase({ batchNorm: true });
  const m = buildHead(base, [
    { type: 'flatten' },
    { type: 'dropout', rate: 0.5 },
    { type: 'output', classes: 3 },
  ]);
  setDeterministicWeights(m, 2);
  const bn = base.getLayer('block1_bn');
  bn.trainable = false;
  const xs = (await fakeDataset({ n: 4 }).load([0, 1, 2, 3])).xs;
  const bnPlan = planGraph(m, { to: 'block1_bn' });
  const [trainOut, inferOut] = tf.tidy(() => [
    runPlan(bnPlan, [xs], true)[0],
    runPlan(bnPlan, [xs], false)[0],
  ]);
  assert.deepEqual(Array.from(trainOut.dataSync()), Array.from(inferOut.dataSync()));
  bn.trainable = true; // a trainable BN uses the batch statistics
  const trainable = tf.tidy(() => runPlan(bnPlan, [xs], true)[0]);
  assert.notDeepEqual(Array.from(trainable.dataSync()), Array.from(inferOut.dataSync()));
  bn.trainable = false;
  // Training the head leaves the frozen BN's moving statistics alone.
  const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
  compile(m, { loss: 'sparseCategoricalCrossentropy' });
  await trainPhase({ model: m, train: fakeDataset({ n: 8, batchSize: 4 }), epochs: 2, verbose: 0 });
  assert.deepEqual(
    bn.getWeights().map((w) => Array.from(w.dataSync())),
    before,
  );
  // Dropout: training output has zeros where inference has none.
  const dropPlan = planGraph(m, { to: m.layers[m.layers.length - 2].name });
  const dropped = tf.tidy(() => runPlan(dropPlan, [xs], true)[0]);
  const kept = tf.tidy(() => runPlan(dropPlan, [xs], false)[0]);
  const zeros = (t: tf.Tensor) => Array.from(t.dataSync()).filter((v) => v === 0).length;
  assert.ok(zeros(dropped) > zeros(kept) + 10);
  tf.dispose([xs, trainOut, inferOut, trainable, dropped, kept]);
});

test('ReduceLROnPlateau changes the rate the next epoch trains with (History.lr)', async () => {
  const { model: m } = model();
  compile(m, { optimizer: adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
  // Monitor a metric that never improves: the training loss of a frozen model is constant.
  freezeAll(m);
  m.layers[m.layers.length - 1].trainable = true;
  compile(m, { optimizer: sgd({ learningRate: 1e-12 }), loss: 'sparseCategoricalCrossentropy' });
  const h = await trainPhase({
    model: m,
    train: fakeDataset({ n: 8, batchSize: 4 }),
    epochs: 6,
    verbose: 0,
    callbacks: [
      new ReduceLROnPlateau({ monitor: 'loss', patience: 2, factor: 0.5, minDelta: 1e-3 }),
    ],
  });
  assert.deepEqual(
    h.epochs.map((e) => e.lr / 1e-12).map((v) => Math.round(v * 1000) / 1000),
    [1, 1, 1, 0.5, 0.5, 0.25],
  );
});

test('fineTune: load the best checkpoint, freeze layers[:n], recompile, continue numbering, merge histories', async () => {
  const { model: m } = model();
  compile(m, {
    optimizer: adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const dir = tmpDir('ft-');
  const ckpt = path.join(dir, 'tl_best.keras');
  const train = fakeDataset({ n: 12, batchSize: 4 });
  const val = fakeDataset({ n: 6, batchSize: 3, seed: 4 });
  const tl = await trainPhase({
    model: m,
    train,
    validation: val,
    epochs: 3,
    name: 'transfer learning',
    verbose: 0,
    callbacks: [new ModelCheckpoint(ckpt, { saveBestOnly: true })],
  });
  const {
    model: ft,
    history,
    phase,
  } = await fineTune({
    from: ckpt,
    freezeUpTo: 3,
    compile: {
      optimizer: adam({ learningRate: 5e-7 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    },
    previous: tl,
    train,
    validation: val,
    epochs: 5, // Keras' total_epochs: 3 before, 2 now
    verbose: 0,
  });
  assert.notEqual(ft, m);
  assert.equal(headBoundary(ft), 'block2_pool', 'the head boundary survives save and load');
  assert.deepEqual(
    ft.layers.map((l) => l.trainable),
    ft.layers.map((_, i) => i >= 3),
  );
  assert.deepEqual(
    phase.epochs.map((e) => e.epoch),
    [3, 4],
  );
  assert.deepEqual(
    history.epochs.map((e) => e.epoch),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(phaseMarks(history), [
    { name: 'transfer learning', startEpoch: 0 },
    { name: 'fine-tuning', startEpoch: 3 },
  ]);
  assert.ok(phase.epochs.every((e) => e.lr === 5e-7));
});

test('mergeHistories renumbers a phase that restarted at 0', () => {
  const e = (epoch: number) => ({ epoch, lr: 1, seconds: 1, metrics: { loss: epoch } });
  const merged = mergeHistories(
    { epochs: [e(0), e(1)], phases: [{ name: 'a', startEpoch: 0 }] },
    { epochs: [e(0), e(1), e(2)], phases: [{ name: 'b', startEpoch: 0 }] },
  );
  assert.deepEqual(
    merged.epochs.map((x) => x.epoch),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(merged.phases, [
    { name: 'a', startEpoch: 0 },
    { name: 'b', startEpoch: 2 },
  ]);
});

test("a merged History keeps each phase's measured time: one [Time] line per phase and the total", () => {
  const e = (epoch: number) => ({ epoch, lr: 1, seconds: 1, metrics: { loss: epoch } });
  const merged = mergeHistories(
    { epochs: [e(0), e(1)], phases: [{ name: 'head', startEpoch: 0, seconds: 2.5 }] },
    // A History written by hand has no measured time: its epochs' seconds are summed.
    { epochs: [e(2), e(3), e(4)], phases: [{ name: 'fine-tuning', startEpoch: 0 }] },
  );
  assert.equal(historySeconds(merged), 5.5);
  assert.deepEqual(historySummary(merged).split('\n'), [
    '[Time] head: 2.50 s for 2 epochs (1.25 s per epoch)',
    '[Time] fine-tuning: 3.00 s for 3 epochs (1.00 s per epoch)',
    '[Time] total: 5.50 s for 5 epochs (1.10 s per epoch)',
  ]);
});

test('TerminateOnNaN stops at the first batch whose loss is NaN; the summary says every val_loss was NaN', async (t) => {
  const diverged = () => {
    const { model: m } = model();
    const head = m.layers[m.layers.length - 1];
    head.setWeights(head.getWeights().map((w) => tf.fill(w.shape, NaN))); // what a diverged run ends with
    compile(m, { optimizer: adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    return m;
  };
  const train = fakeDataset({ n: 24, batchSize: 8 });
  const val = fakeDataset({ n: 8, batchSize: 8, seed: 9 });
  const lines: string[] = [];
  t.mock.method(console, 'log', (s: string) => {
    lines.push(String(s));
  });
  const stopper = new TerminateOnNaN();
  const h = await trainPhase({
    model: diverged(),
    train,
    validation: val,
    epochs: 5,
    verbose: 1,
    callbacks: [stopper],
  });
  const without = await trainPhase({
    model: diverged(),
    train,
    validation: val,
    epochs: 2,
    verbose: 0,
  });
  t.mock.restoreAll();
  assert.equal(h.epochs.length, 1, 'stopped in the first epoch');
  assert.equal(stopper.stoppedAtBatch, 0);
  assert.ok(
    lines.some((l) => l.includes('Batch 0: Invalid loss, terminating training')),
    lines.join('\n'),
  );
  assert.equal(without.epochs.length, 2, 'without the callback the run goes on');
  const summary = historySummary(without);
  assert.match(
    summary,
    /\[Best\] none: val_loss was NaN in every epoch \(and so was the training loss\)\. Training diverged: lower the learning rate/,
  );
  assert.ok(
    lines.some((l) => /\[Best\] none: val_loss was NaN in every epoch/.test(l)),
    'trainPhase prints it too',
  );
});

test('fineTune in one call (fastai fine_tune): head epochs with the base frozen, then unfreeze to a boundary at a lower rate; epochs as in Keras fit', async () => {
  const { model: m } = model({ batchNorm: true });
  const train = fakeDataset({ n: 12, batchSize: 4 });
  const val = fakeDataset({ n: 6, batchSize: 3, seed: 4 });
  const trainableDuring: boolean[][] = [];
  const seen: TrainCallback = {
    onTrainBegin: (ctx) => void trainableDuring.push(ctx.model.layers.map((l) => l.trainable)),
  };
  const {
    model: ft,
    history,
    phase,
  } = await fineTune({
    from: m,
    headEpochs: 2,
    freezeUpTo: 3,
    keepBatchNormFrozen: true,
    compile: {
      optimizer: adam({ learningRate: 0.01 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    },
    train,
    validation: val,
    epochs: 5, // Keras' total_epochs: 2 head epochs, then 3 fine-tuning epochs
    callbacks: [seen],
    verbose: 0,
  });
  assert.equal(ft, m);
  const boundary = m.layers.findIndex((l) => l.name === headBoundary(m));
  // Phase 1: everything up to the head boundary frozen; phase 2: layers[:3] and every BN of the base.
  assert.deepEqual(
    trainableDuring[0],
    m.layers.map((_, i) => i > boundary),
  );
  assert.deepEqual(
    trainableDuring[1],
    m.layers.map(
      (l, i) => i >= 3 && !(i <= boundary && l.getClassName().includes('BatchNormalization')),
    ),
  );
  assert.deepEqual(
    history.epochs.map((e) => e.epoch),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(phaseMarks(history), [
    { name: 'transfer learning', startEpoch: 0 },
    { name: 'fine-tuning', startEpoch: 2 },
  ]);
  assert.ok(history.epochs.slice(0, 2).every((e) => e.lr === 0.01));
  assert.ok(
    phase.epochs.every((e) => Math.abs(e.lr - 0.001) < 1e-12),
    'the fine-tuning rate defaults to a tenth of the head rate',
  );
  // The rate is readable from the compiled model, as Keras' model.optimizer.learning_rate.
  assert.ok(Math.abs(learningRate(ft) - 0.001) < 1e-12);
  assert.equal(ft.optimizer, getCompiled(ft).optimizer);
  await assert.rejects(
    fineTune({ from: m, compile: { optimizer: 'adam' }, previous: history, train, epochs: 2 }),
    /epochs \(2\) is the epoch index to train up to, as in Keras' fit.*pass epochs: 7/,
  );
});

test('epochs has one meaning (Keras fit: the epoch index to train up to): fineTune({ headEpochs: 2, epochs: 4 }) is two trainPhase calls', async () => {
  const settings = {
    optimizer: adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy' as const,
    metrics: ['accuracy' as const],
  };
  const train = fakeDataset({ n: 12, batchSize: 4 });
  const val = fakeDataset({ n: 6, batchSize: 3, seed: 4 });
  const params: TrainContext['params'][] = [];
  const seen = (): TrainCallback => ({ onTrainBegin: (ctx) => void params.push(ctx.params) });

  // One call: 2 head epochs, then fine-tuning up to epoch index 4.
  const one = model().model;
  const { history: oneCall } = await fineTune({
    from: one,
    headEpochs: 2,
    compile: settings,
    fineTuneLearningRate: 0.001,
    train,
    validation: val,
    epochs: 4,
    callbacks: [seen()],
    verbose: 0,
  });

  // Step by step, as notebook 02: trainPhase up to epoch 2, then from 2 up to epoch 4.
  const two = model().model;
  const boundary = two.layers.findIndex((l) => l.name === headBoundary(two));
  freeze(two, { upTo: boundary + 1 });
  compile(two, settings);
  const head = await trainPhase({
    model: two,
    train,
    validation: val,
    epochs: 2,
    callbacks: [seen()],
    name: 'transfer learning',
    verbose: 0,
  });
  unfreeze(two);
  compile(two, { ...settings, optimizer: adam({ learningRate: 0.001 }) });
  const tuned = await trainPhase({
    model: two,
    train,
    validation: val,
    initialEpoch: head.epochs.length,
    epochs: 4,
    callbacks: [seen()],
    name: 'fine-tuning',
    verbose: 0,
  });
  const stepByStep = mergeHistories(head, tuned);

  for (const h of [oneCall, stepByStep]) {
    assert.deepEqual(
      h.epochs.map((e) => e.epoch),
      [0, 1, 2, 3],
    );
    assert.deepEqual(phaseMarks(h), [
      { name: 'transfer learning', startEpoch: 0 },
      { name: 'fine-tuning', startEpoch: 2 },
    ]);
  }
  // What every callback is told (Keras' params): the same two phases either way.
  const phases = [
    { epochs: 2, initialEpoch: 0 },
    { epochs: 4, initialEpoch: 2 },
  ];
  assert.deepEqual(
    params.map(({ epochs, initialEpoch }) => ({ epochs, initialEpoch })),
    [...phases, ...phases],
  );
  // The same training, so the same numbers.
  oneCall.epochs.forEach((e, i) =>
    assert.ok(
      Math.abs(e.metrics.val_loss - stepByStep.epochs[i].metrics.val_loss) < 1e-5,
      `epoch ${i}: ${e.metrics.val_loss} vs ${stepByStep.epochs[i].metrics.val_loss}`,
    ),
  );
});

test('optimizers take their options one way: an object with Keras names', () => {
  assert.deepEqual(adam({ learningRate: 0.01 }), {
    kind: 'adam',
    learningRate: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  });
  assert.equal(rmsprop({ learningRate: 0.02 }).learningRate, 0.02);
  assert.equal(sgd({ learningRate: 0.03, momentum: 0.9 }).learningRate, 0.03);
  assert.throws(
    () => adam(0.01 as unknown as object),
    /pass the options as an object, e.g. adam\(\{ learningRate: 0.01 \}\)/,
  );
});
