// Keras callback semantics, driven with hand-made val_loss sequences (no training needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  EarlyStopping,
  ReduceLROnPlateau,
  ModelCheckpoint,
  CSVLogger,
  formatCheckpointPath,
  type TrainCallback,
  type TrainContext,
} from '../../lib/train/callbacks';
import { MonitorCallback, monitorMode } from '../../lib/train/monitor';
import { tmpDir } from '../helpers';

/** Run callbacks over a sequence of epoch logs like trainPhase does; returns what happened. */
async function drive(cbs: TrainCallback[], logs: Record<string, number>[], model?: tf.LayersModel) {
  let lr = 1;
  const lrs: number[] = [];
  const messages: string[] = [];
  const ctx = {
    model: model ?? tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] }),
    phase: 'test',
    params: { epochs: logs.length, initialEpoch: 0, steps: 1 },
    history: { epochs: [], phases: [] },
    batchLogs: {},
    get learningRate() {
      return lr;
    },
    set learningRate(v: number) {
      lr = v;
    },
    stopTraining: false,
    log: (m: string) => void messages.push(m),
  } as TrainContext;
  for (const cb of cbs) await cb.onTrainBegin?.(ctx);
  let epoch = 0;
  for (; epoch < logs.length; epoch++) {
    lrs.push(lr);
    if (model) model.layers[0].setWeights([tf.fill([1, 1], epoch), tf.zeros([1])]); // weights mark the epoch
    for (const cb of cbs) await cb.onEpochEnd?.(epoch, { ...logs[epoch], lr }, ctx);
    if (ctx.stopTraining) break;
  }
  for (const cb of cbs) await cb.onTrainEnd?.(undefined, ctx);
  return { stoppedAt: ctx.stopTraining ? epoch : null, lrs, messages };
}
const seq = (...v: number[]) => v.map((val_loss) => ({ val_loss, loss: val_loss }));

test('EarlyStopping: patience counts epochs without an improvement larger than minDelta', async () => {
  // best 1.0 at epoch 0; 0.9995 is not an improvement with minDelta 1e-3; stop after 2 epochs without one.
  const r = await drive(
    [new EarlyStopping({ patience: 2, minDelta: 1e-3 })],
    seq(1.0, 0.9995, 0.9992, 0.5, 0.4),
  );
  assert.equal(r.stoppedAt, 2);
  const r2 = await drive(
    [new EarlyStopping({ patience: 2 })],
    seq(1.0, 0.9995, 0.9992, 0.9991, 0.99),
  );
  assert.equal(r2.stoppedAt, null, 'without minDelta every decrease counts');
});

test('EarlyStopping: mode auto maximises accuracy; baseline keeps the wait running', async () => {
  const acc = [0.1, 0.2, 0.2, 0.2].map((val_accuracy) => ({ val_accuracy }));
  assert.equal(
    (await drive([new EarlyStopping({ monitor: 'val_accuracy', patience: 2 })], acc)).stoppedAt,
    3,
  );
  // An improvement that does not beat the baseline does not reset the wait, so it stops one epoch earlier.
  assert.equal(
    (await drive([new EarlyStopping({ patience: 2, baseline: 0.5 })], seq(0.9, 0.8, 0.8, 0.8)))
      .stoppedAt,
    2,
  );
  assert.equal(
    (await drive([new EarlyStopping({ patience: 2 })], seq(0.9, 0.8, 0.8, 0.8))).stoppedAt,
    3,
  );
});

test("EarlyStopping: restoreBestWeights puts back the best epoch's weights when it stops", async () => {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  const es = new EarlyStopping({ patience: 2, restoreBestWeights: true, verbose: 1 });
  const r = await drive([es], seq(0.9, 0.5, 0.7, 0.8, 0.1), m);
  assert.equal(r.stoppedAt, 3);
  assert.equal(es.bestEpoch, 1);
  assert.equal(m.layers[0].getWeights()[0].dataSync()[0], 1, 'weights of epoch 1');
  assert.match(
    r.messages.join('\n'),
    /Epoch 4: early stopping[\s\S]*Restoring model weights from the end of the best epoch: 2\./,
  );
});

test('EarlyStopping: restoreBestWeights puts back the best weights when the epochs run out too (Keras 3)', async () => {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  const es = new EarlyStopping({ patience: 5, restoreBestWeights: true });
  const r = await drive([es], seq(0.9, 0.5, 0.7, 0.8), m);
  assert.equal(r.stoppedAt, null, 'ran all its epochs');
  assert.equal(es.bestEpoch, 1);
  assert.equal(
    m.layers[0].getWeights()[0].dataSync()[0],
    1,
    'weights of epoch 1, not of the last epoch',
  );
});

test('ReduceLROnPlateau: factor, patience, cooldown and minLr as in Keras', async () => {
  const flat = seq(1, 1, 1, 1, 1, 1, 1, 1, 1);
  const r = await drive(
    [new ReduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.2, verbose: 1 })],
    flat,
  );
  // Keras' trace: reduce at the end of epoch 2; epoch 3 ends the cooldown and already counts (wait 1),
  // so epoch 4 reduces again; epoch 6 reduces to max(0.125, minLr) = 0.2, and it stays there.
  assert.deepEqual(r.lrs, [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]);
  const r2 = await drive(
    [new ReduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.2 })],
    seq(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
  );
  assert.equal(r2.lrs[r2.lrs.length - 1], 0.2);
  assert.match(r.messages[0], /Epoch 3: ReduceLROnPlateau reducing learning rate to 0\.5\./);
  // An improvement larger than minDelta resets the wait.
  const r3 = await drive(
    [new ReduceLROnPlateau({ factor: 0.1, patience: 2 })],
    seq(1, 1, 0.5, 0.5, 0.5),
  );
  assert.deepEqual(r3.lrs, [1, 1, 1, 1, 1]);
  assert.throws(() => new ReduceLROnPlateau({ factor: 1 }), /factor must be < 1/);
});

test('ModelCheckpoint: saveBestOnly writes only on improvement; path templates like Keras', async () => {
  const dir = tmpDir('ckpt-');
  const written: string[] = [];
  const mc = new ModelCheckpoint(path.join(dir, 'm-{epoch:02d}-{val_loss:.2f}.keras'), {
    saveBestOnly: true,
    writer: async (_m, file) => void written.push(path.basename(file)),
  });
  await drive([mc], seq(0.9, 0.95, 0.5, 0.5, 0.4));
  assert.deepEqual(written, ['m-01-0.90.keras', 'm-03-0.50.keras', 'm-05-0.40.keras']);
  assert.equal(
    formatCheckpointPath('w.{epoch:03d}-{val_accuracy:.3f}.h5', 6, { val_accuracy: 0.98765 }),
    'w.007-0.988.h5',
  );
  // Keras keeps `best` across fits when the callback object is reused (phase 2 saves only if better).
  await drive([mc], seq(0.45, 0.3));
  assert.deepEqual(written.slice(3), ['m-02-0.30.keras']);
});

test('CSVLogger: Keras header and rows, append keeps earlier rows, file complete after each epoch', async () => {
  const dir = tmpDir('csv-');
  const file = path.join(dir, 'log.csv');
  const csv = new CSVLogger(file);
  const seen: string[] = [];
  const peek: TrainCallback = { onEpochEnd: () => void seen.push(fs.readFileSync(file, 'utf8')) };
  await drive(
    [csv, peek],
    [
      { loss: 2, accuracy: 0.5, val_loss: 2.5 },
      { loss: 1, accuracy: 0.75, val_loss: 2 },
    ],
  );
  assert.equal(seen[0], 'epoch,accuracy,loss,lr,val_loss\n0,0.5,2,1,2.5\n');
  await drive(
    [new CSVLogger(file, { append: true })],
    [{ loss: 0.5, accuracy: 0.8, val_loss: 1.5 }],
  );
  assert.equal(
    fs.readFileSync(file, 'utf8'),
    'epoch,accuracy,loss,lr,val_loss\n0,0.5,2,1,2.5\n1,0.75,1,1,2\n0,0.8,0.5,1,1.5\n',
  );
  await drive([new CSVLogger(file, { separator: ';' })], [{ loss: 0.5 }]);
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch;loss;lr\n0;0.5;1\n');
});

test('One monitor: mode inference, minDelta and the improvement test are shared by the three callbacks', async () => {
  // Keras' names: losses fall, accuracy-like names and AUC rise, other names fall (Keras 2's default).
  for (const [name, mode] of [
    ['val_loss', 'min'],
    ['loss', 'min'],
    ['val_accuracy', 'max'],
    ['acc', 'max'],
    ['val_top_k_categorical_accuracy', 'max'],
    ['val_top3_acc', 'max'],
    ['val_auc', 'max'],
    ['val_mse', 'min'],
  ] as const) {
    assert.equal(monitorMode(name), mode, name);
    for (const cb of [
      new EarlyStopping({ monitor: name }),
      new ReduceLROnPlateau({ monitor: name }),
      new ModelCheckpoint('x.keras', { monitor: name }),
    ])
      assert.equal(cb.mode, mode, `${cb.constructor.name} on ${name}`);
  }
  assert.ok(new EarlyStopping() instanceof MonitorCallback);
  // One improvement test: better by more than minDelta in the monitor's direction.
  const es = new EarlyStopping({ minDelta: -0.1 }); // the sign is ignored, as in Keras
  assert.equal(es.isImprovement(0.85, 1), true);
  assert.equal(es.isImprovement(0.95, 1), false);
  const rl = new ReduceLROnPlateau({ monitor: 'val_accuracy' });
  assert.equal(rl.minDelta, 1e-4, "ReduceLROnPlateau's Keras default");
  assert.equal(rl.isImprovement(0.50005, 0.5), false);
  assert.equal(rl.isImprovement(0.5002, 0.5), true);
  // ModelCheckpoint's initialValueThreshold is the monitor's baseline; mode max starts at -Infinity.
  assert.equal(new ModelCheckpoint('x.keras', { initialValueThreshold: 0.7 }).best, 0.7);
  assert.equal(new ModelCheckpoint('x.keras', { monitor: 'val_accuracy' }).best, -Infinity);
});
