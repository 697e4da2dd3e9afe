import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { vgg16 } from '../../lib/models/applications/vgg16';
import { resnet50 } from '../../lib/models/applications/resnet50';
import { withPreprocessing } from '../../lib/models/with-preprocessing';
import { preprocessInput } from '../../lib/data/preprocess';

test('withPreprocessing: raw pixels in, same output as preprocessing then the base; layers shared and shifted by one', async () => {
  await tf.setBackend('cpu');
  const base = await vgg16({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
  const model = withPreprocessing(base, 'caffe');
  assert.equal(model.layers.length, base.layers.length + 1);
  assert.equal(model.layers[1].name, 'preprocess_input');
  assert.equal(
    model.layers[2],
    base.layers[1],
    'block1_conv1 is the same layer object (shared weights)',
  );
  assert.equal(model.layers.at(-8)!.name, 'block4_conv1');
  assert.equal(model.countParams(), base.countParams());
  const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 1);
  const want = base.predict(preprocessInput(x, 'caffe')) as tf.Tensor;
  const got = model.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(want, got))).dataSync()[0] < 1e-4);
});

test('withPreprocessing rebuilds a branching graph (ResNet50 shortcuts)', async () => {
  await tf.setBackend('cpu');
  const base = await resnet50({
    includeTop: false,
    weights: null,
    inputShape: [32, 32, 3],
    pooling: 'avg',
  });
  const model = withPreprocessing(base, 'caffe');
  assert.equal(model.layers.length, base.layers.length + 1);
  const x = tf.randomUniform([1, 32, 32, 3], 0, 255, 'float32', 2);
  const want = base.predict(preprocessInput(x, 'caffe')) as tf.Tensor;
  const got = model.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(want, got))).dataSync()[0] < 1e-3);
});
