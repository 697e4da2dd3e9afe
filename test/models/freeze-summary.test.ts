// freeze / unfreeze by Keras-style positions, trainable counts, and Keras' summary table.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { vgg16 } from '../../lib/models/applications/vgg16';
import { resnet50 } from '../../lib/models/applications/resnet50';
import { inceptionV3 } from '../../lib/models/applications/inceptionV3';
import { freeze, unfreeze, trainableSummary } from '../../lib/models/freeze';
import { modelSummary } from '../../lib/models/summary';
import { KerasBatchNormalization } from '../../lib/models/batchnorm';

before(async () => {
  await tf.setBackend('cpu');
});

const size = (ws: tf.LayerVariable[]) =>
  ws.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

test('InceptionV3: freeze({ upTo: 249 }) is Keras layers[:249] frozen, layers[249:] (mixed9, mixed10) trainable', async () => {
  const m = await inceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
  const frozen = freeze(m, { upTo: 249 });
  assert.equal(frozen.length, 249);
  assert.equal(frozen[frozen.length - 1].name, 'mixed8');
  m.layers.forEach((l, i) => assert.equal(l.trainable, i >= 249, `${i} ${l.name}`));
  const s = trainableSummary(m);
  // Independent count: trainable weights (BN beta, conv kernels) of layers 249..310.
  const expected = m.layers.slice(249).reduce((n, l) => n + size(l.trainableWeights), 0);
  assert.equal(s.trainableParams, expected);
  assert.equal(s.totalParams, 21_802_784);
  assert.equal(s.trainableRanges.length, 1);
  assert.equal(s.trainableRanges[0][0], 249);
  assert.match(s.text, /Trainable params: /);
  // Frozen BN layers now run in inference mode.
  assert.equal((m.getLayer('batch_normalization') as KerasBatchNormalization).isFrozen(), true);
  assert.equal((m.getLayer('batch_normalization_93') as KerasBatchNormalization).isFrozen(), false);
  // By name the bound is exclusive too: upTo 'mixed8' stops before mixed8.
  unfreeze(m);
  assert.equal(freeze(m, { upTo: 'mixed8' }).length, 248);
  assert.throws(() => freeze(m, { upTo: 'mixed99' }), /no layer named "mixed99".*mixed/);
  m.dispose();
});

test('VGG16: freeze(base) then unfreeze({ lastN: 8 }) trains block4_conv1..block5_pool (12,979,200 params)', async () => {
  const base = await vgg16({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  freeze(base);
  assert.equal(trainableSummary(base).trainableParams, 0);
  assert.equal(modelSummary(base).trainableParams, 0);
  const un = unfreeze(base, { lastN: 8 });
  assert.deepEqual(un.map((l) => l.name)[0], 'block4_conv1');
  const s = trainableSummary(base);
  assert.equal(s.trainableParams, 1_180_160 + 5 * 2_359_808);
  assert.equal(s.nonTrainableParams, 14_714_688 - s.trainableParams);
  assert.deepEqual(s.trainableRanges, [[11, 17]]);
  // names
  freeze(base, { names: ['block5_conv3'] });
  assert.equal(base.getLayer('block5_conv3').trainable, false);
  assert.throws(() => freeze(base, { lastN: -1 }), /lastN/);
  base.dispose();
});

test('model.trainable=false on a base (tfjs flips only variable flags) still freezes its Keras BN', async () => {
  const base = await resnet50({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  base.trainable = false;
  assert.equal((base.getLayer('conv1_bn') as KerasBatchNormalization).isFrozen(), true);
  base.trainable = true;
  assert.equal((base.getLayer('conv1_bn') as KerasBatchNormalization).isFrozen(), false);
  base.dispose();
});

test('summary: Keras columns, totals, Connected to only for non-sequential models', async () => {
  const v = await vgg16({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  const sv = modelSummary(v);
  const lines = sv.text.split('\n');
  assert.equal(lines[0], 'Model: "vgg16"');
  assert.match(lines[2], /^ Layer \(type\) +Output Shape +Param #$/);
  assert.ok(sv.text.includes(' input_1 (InputLayer)        [(None, 32, 32, 3)]       0'));
  assert.ok(sv.text.includes(' block1_conv1 (Conv2D)       (None, 32, 32, 64)        1792'));
  assert.ok(
    sv.text.includes(
      'Total params: 14,714,688\nTrainable params: 14,714,688\nNon-trainable params: 0',
    ),
  );
  assert.ok(!sv.text.includes('Connected to'));
  assert.match(sv.html, /<table>/);
  assert.equal(sv.rows.length, 19);
  assert.match(sv.text, /vgg16 base: RANDOM weights \(weights: null\)/, 'a random base says so');
  v.dispose();

  const r = await resnet50({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  const sr = modelSummary(r);
  assert.match(sr.text.split('\n')[2], /Connected to$/);
  const add = sr.rows.find((row) => row.name === 'conv2_block1_add')!;
  assert.deepEqual(add.connectedTo, ['conv2_block1_0_bn[0][0]', 'conv2_block1_3_bn[0][0]']);
  assert.equal(sr.rows.find((row) => row.name === 'conv1_bn')!.type, 'BatchNormalization');
  assert.ok(
    sr.text.includes(
      'Total params: 23,587,712\nTrainable params: 23,534,592\nNon-trainable params: 53,120',
    ),
  );
  r.dispose();
});

test('freezing a nested model (a base used as one layer) freezes every layer inside it', async () => {
  const base = await vgg16({
    includeTop: false,
    weights: null,
    inputShape: [32, 32, 3],
    pooling: 'avg',
  });
  const model = tf.sequential({ layers: [base, tf.layers.dense({ units: 2, name: 'head' })] });
  freeze(model, { names: ['vgg16'] });
  assert.ok(base.layers.every((l) => !l.trainable));
  assert.equal(trainableSummary(model).trainableParams, 512 * 2 + 2);
  unfreeze(model, { names: ['vgg16'] });
  assert.equal(trainableSummary(model).trainableParams, 14_714_688 + 512 * 2 + 2);
  model.dispose();
});

test("freeze({ from, ofClass: 'BatchNormalization' }) freezes only the selected BatchNormalization layers (Keras isinstance)", async () => {
  const m = await inceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
  freeze(m, { upTo: 249 });
  const frozenBn = freeze(m, { from: 249, ofClass: 'BatchNormalization' });
  assert.ok(frozenBn.length > 0);
  for (const l of frozenBn) assert.ok(l instanceof KerasBatchNormalization, l.name);
  m.layers.slice(249).forEach((l) => {
    const isBn = l instanceof KerasBatchNormalization;
    assert.equal(l.trainable, !isBn, `${l.name}`);
    if (isBn) assert.equal((l as KerasBatchNormalization).isFrozen(), true, l.name);
  });
  // The convolutions of mixed9/mixed10 still train.
  assert.ok(m.getLayer('conv2d_93').trainable);
  assert.throws(
    () => freeze(m, { ofClass: 'LayerNormalization' }),
    /no layer of class "LayerNormalization".*BatchNormalization/,
  );
});
