// The three bases match Keras layer for layer: names, order, output shapes, parameter counts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { vgg16 } from '../../lib/models/applications/vgg16';
import { resnet50 } from '../../lib/models/applications/resnet50';
import { inceptionV3 } from '../../lib/models/applications/inceptionV3';
import { modelSummary } from '../../lib/models/summary';
import { tmpDir } from '../helpers';
import { closedPort } from './ports';

before(async () => {
  await tf.setBackend('cpu');
});

const convParams = (k: number, cin: number, cout: number, bias = true) =>
  k * k * cin * cout + (bias ? cout : 0);

test('VGG16 without top: 19 layers, 14,714,688 params, Keras names, last 8 = block4_conv1..block5_pool', async () => {
  const m = await vgg16({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  assert.equal(m.name, 'vgg16');
  assert.equal(m.layers.length, 19);
  assert.equal(m.countParams(), 14_714_688);
  assert.deepEqual(
    m.layers.slice(-8).map((l) => l.name),
    [
      'block4_conv1',
      'block4_conv2',
      'block4_conv3',
      'block4_pool',
      'block5_conv1',
      'block5_conv2',
      'block5_conv3',
      'block5_pool',
    ],
  );
  assert.equal(m.layers[1].name, 'block1_conv1');
  assert.equal(m.layers[1].countParams(), convParams(3, 3, 64));
  // Keras' default glorot_uniform (tfjs serializes it as VarianceScaling fanAvg/uniform), not tfjs' glorotNormal.
  const init = m.layers[1].getConfig().kernelInitializer as {
    config: { mode: string; distribution: string };
  };
  assert.deepEqual([init.config.mode, init.config.distribution], ['fanAvg', 'uniform']);
  assert.deepEqual(m.outputs[0].shape, [null, 1, 1, 512]);
  const y = tf.tidy(() => (m.predict(tf.ones([1, 32, 32, 3])) as tf.Tensor).shape);
  assert.deepEqual(y, [1, 1, 1, 512]);
  m.dispose();
});

test('VGG16 with a top at a reduced size: flatten, fc1, fc2, predictions with the expected params', async () => {
  const m = await vgg16({ weights: null, inputShape: [32, 32, 3], classes: 10 });
  assert.deepEqual(
    m.layers.slice(-4).map((l) => l.name),
    ['flatten', 'fc1', 'fc2', 'predictions'],
  );
  assert.equal(m.layers.length, 23);
  const top = 512 * 4096 + 4096 + (4096 * 4096 + 4096) + (4096 * 10 + 10);
  assert.equal(m.countParams(), 14_714_688 + top);
  assert.deepEqual(m.outputs[0].shape, [null, 10]);
  m.dispose();
});

test('ResNet50 without top: 175 layers, 23,587,712 params, Keras block order, 53,120 non-trainable', async () => {
  const m = await resnet50({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  assert.equal(m.name, 'resnet50');
  assert.equal(m.layers.length, 175);
  assert.equal(m.countParams(), 23_587_712);
  assert.deepEqual(
    m.layers.slice(0, 7).map((l) => l.name),
    ['input_1', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool'],
  );
  // Keras orders equal-depth layers by traversal: the shortcut conv sits between 2_relu and 3_conv.
  assert.deepEqual(
    m.layers.slice(7, 19).map((l) => l.name),
    [
      'conv2_block1_1_conv',
      'conv2_block1_1_bn',
      'conv2_block1_1_relu',
      'conv2_block1_2_conv',
      'conv2_block1_2_bn',
      'conv2_block1_2_relu',
      'conv2_block1_0_conv',
      'conv2_block1_3_conv',
      'conv2_block1_0_bn',
      'conv2_block1_3_bn',
      'conv2_block1_add',
      'conv2_block1_out',
    ],
  );
  assert.equal(m.layers[174].name, 'conv5_block3_out');
  const bn = m.getLayer('conv1_bn') as unknown as { epsilon: number };
  assert.equal(bn.epsilon, 1.001e-5);
  const s = modelSummary(m);
  assert.equal(s.trainableParams, 23_534_592);
  assert.equal(s.nonTrainableParams, 53_120);
  assert.deepEqual(m.outputs[0].shape, [null, 1, 1, 2048]);
  const y = tf.tidy(() => (m.predict(tf.ones([1, 32, 32, 3])) as tf.Tensor).shape);
  assert.deepEqual(y, [1, 1, 1, 2048]);
  m.dispose();
});

test('ResNet50 with pooling avg / max: 2-D output named avg_pool / max_pool', async () => {
  const a = await resnet50({
    includeTop: false,
    weights: null,
    inputShape: [32, 32, 3],
    pooling: 'avg',
  });
  assert.equal(a.layers[a.layers.length - 1].name, 'avg_pool');
  assert.deepEqual(a.outputs[0].shape, [null, 2048]);
  a.dispose();
  const b = await resnet50({
    includeTop: false,
    weights: null,
    inputShape: [32, 32, 3],
    pooling: 'max',
  });
  assert.equal(b.layers[b.layers.length - 1].name, 'max_pool');
  b.dispose();
});

test('InceptionV3 without top: 311 layers, 21,802,784 params, mixed8 at 248, mixed10 at 310', async () => {
  const m = await inceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
  assert.equal(m.name, 'inception_v3');
  assert.equal(m.layers.length, 311);
  assert.equal(m.countParams(), 21_802_784);
  assert.equal(m.layers[248].name, 'mixed8');
  assert.equal(m.layers[310].name, 'mixed10');
  assert.deepEqual(
    m.layers.slice(0, 4).map((l) => l.name),
    ['input_1', 'conv2d', 'batch_normalization', 'activation'],
  );
  // Keras' fresh-session counters reach conv2d_93 / batch_normalization_93 (94 conv blocks).
  for (const n of [
    'conv2d_93',
    'batch_normalization_93',
    'activation_93',
    'average_pooling2d_8',
    'max_pooling2d_3',
    'mixed9_0',
    'mixed9_1',
    'concatenate',
    'concatenate_1',
  ])
    assert.ok(m.getLayer(n), n);
  const bn = m.getLayer('batch_normalization') as unknown as { scale: boolean; epsilon: number };
  assert.equal(bn.scale, false);
  assert.equal(bn.epsilon, 1e-3);
  assert.equal(m.getLayer('conv2d').weights.length, 1, 'InceptionV3 convs have no bias');
  const s = modelSummary(m);
  assert.equal(s.trainableParams, 21_768_352);
  assert.equal(s.nonTrainableParams, 34_432);
  assert.deepEqual(m.outputs[0].shape, [null, 1, 1, 2048]);
  m.dispose();
});

// Order of equal-depth layers decides which weights load where (Keras loads by order, and several
// convs in a block share a shape). Reference: model.summary() of Keras 2's InceptionV3.
const KERAS_MIXED0 =
  'max_pooling2d_1 conv2d_8 bn_8 act_8 conv2d_6 conv2d_9 bn_6 bn_9 act_6 act_9 average_pooling2d ' +
  'conv2d_5 conv2d_7 conv2d_10 conv2d_11 bn_5 bn_7 bn_10 bn_11 act_5 act_7 act_10 act_11 mixed0';
const KERAS_MIXED9 =
  'mixed8 conv2d_80 bn_80 act_80 conv2d_77 conv2d_81 bn_77 bn_81 act_77 act_81 conv2d_78 conv2d_79 ' +
  'conv2d_82 conv2d_83 average_pooling2d_7 conv2d_76 bn_78 bn_79 bn_82 bn_83 conv2d_84 bn_76 act_78 act_79 act_82 act_83 ' +
  'bn_84 act_76 mixed9_0 concatenate act_84 mixed9';
const short = (n: string) => n.replace('batch_normalization', 'bn').replace('activation', 'act');

test('InceptionV3 layer order inside blocks matches Keras (what by-order weight loading relies on)', async () => {
  const m = await inceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
  const names = m.layers.map((l) => short(l.name));
  assert.equal(names.slice(17, 41).join(' '), KERAS_MIXED0);
  assert.equal(names.slice(248, 280).join(' '), KERAS_MIXED9);
  m.dispose();
});

test('a base under a new head (one functional model, as in the walkthroughs) keeps its layer indices', async () => {
  const base = await inceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
  const x = tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  assert.equal(model.layers.length, 313);
  assert.equal(model.layers[248].name, 'mixed8');
  assert.equal(model.layers[310].name, 'mixed10');
  assert.deepEqual(
    model.layers.slice(0, 311).map((l) => l.name),
    base.layers.map((l) => l.name),
  );
  base.dispose();
});

test('Keras option checks: bad combinations fail with a message that says the fix', async () => {
  await assert.rejects(
    inceptionV3({ includeTop: false, weights: null, inputShape: [64, 64, 3] }),
    /at least 75x75/,
  );
  await assert.rejects(
    vgg16({ includeTop: false, weights: null, inputShape: [16, 16, 3] }),
    /at least 32x32/,
  );
  await assert.rejects(
    resnet50({ weights: 'imagenet', classes: 10 }),
    /classes must be 1000.*includeTop: false/s,
  );
  await assert.rejects(
    vgg16({ weights: 'imagenet', inputShape: [128, 128, 3] }),
    /inputShape must be \[224, 224, 3\]/,
  );
  await assert.rejects(
    vgg16({ includeTop: false, weights: '/nonexistent/file.h5' }),
    /nonexistent\/file\.h5.*not found/,
  );
});

test("weights: 'imagenet' offline with no cached file is an error naming the file, URL and cache path (never random)", async () => {
  const cacheDir = tmpDir('keras-cache-');
  const baseUrl = `http://127.0.0.1:${await closedPort()}/`;
  const err = await vgg16({
    includeTop: false,
    inputShape: [32, 32, 3],
    cacheDir,
    baseUrl,
    quiet: true,
  }).then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'must not silently build a random model');
  assert.match(err.message, /vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
  assert.ok(
    err.message.includes(`${baseUrl}vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`),
    err.message,
  );
  assert.ok(err.message.includes(cacheDir), 'names the folder to copy the file into');
});

test('the registry builds a base in a fresh process that imported only lib/models/architectures (as npm run prepare-weights does)', () => {
  const code =
    "const { architecture } = require('./lib/models/architectures');" +
    "architecture('InceptionV3')" +
    '.build({ includeTop: false, weights: null, inputShape: [75, 75, 3] })' +
    '.then((m) => console.log(m.name, m.layers.length));';
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^inception_v3 311$/m);
});
