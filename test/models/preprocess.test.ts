// preprocessInput modes against values computed by hand from Keras' definitions.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  preprocessInput,
  preprocessPixels,
  PreprocessInput,
  type PreprocessMode,
} from '../../lib/data/preprocess';
import { saveModel, loadModel } from '../../lib/models/saveload';
// The registry names each base's mode ('vgg16' = caffe, …), from the base's record.
import '../../lib/models/architectures';
import { mulberry32 } from '../../lib/rng';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

const close = (a: ArrayLike<number>, b: number[], tol = 1e-4) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) < tol, `[${i}] ${a[i]} vs ${b[i]}`);
};
// Two RGB pixels: (10, 20, 30) and (255, 0, 127.5).
const pixels = () => tf.tensor4d([10, 20, 30, 255, 0, 127.5], [1, 1, 2, 3]);

test('caffe (vgg16, resnet50): RGB->BGR then minus [103.939, 116.779, 123.68]', () => {
  const want = [
    30 - 103.939,
    20 - 116.779,
    10 - 123.68,
    127.5 - 103.939,
    0 - 116.779,
    255 - 123.68,
  ];
  for (const mode of ['caffe', 'vgg16', 'resnet50'] as const) {
    const y = preprocessInput(pixels(), mode);
    close(y.dataSync(), want);
    assert.deepEqual(y.shape, [1, 1, 2, 3]);
  }
});

test('tf (inceptionv3): x / 127.5 - 1', () => {
  const want = [10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1, 1, -1, 0];
  close(preprocessInput(pixels(), 'tf').dataSync(), want);
  close(preprocessInput(pixels(), 'inceptionv3').dataSync(), want);
});

test('torch: x / 255 then ImageNet mean/std per RGB channel', () => {
  const mean = [0.485, 0.456, 0.406],
    std = [0.229, 0.224, 0.225];
  const raw = [10, 20, 30, 255, 0, 127.5];
  const want = raw.map((v, i) => (v / 255 - mean[i % 3]) / std[i % 3]);
  close(preprocessInput(pixels(), 'torch').dataSync(), want);
});

test('int32 pixels are accepted; unknown modes and wrong channel counts fail clearly', () => {
  const y = preprocessInput(tf.tensor4d([0, 0, 0], [1, 1, 1, 3], 'int32'), 'caffe');
  assert.equal(y.dtype, 'float32');
  close(y.dataSync(), [-103.939, -116.779, -123.68]);
  assert.throws(
    () => preprocessInput(pixels(), 'mobilenet' as PreprocessMode),
    /unknown mode "mobilenet".*'caffe', 'tf' or 'torch'/,
  );
  assert.throws(() => preprocessInput(tf.zeros([1, 2, 2, 1]), 'caffe'), /3 colour channels/);
});

test('the pixel path (data pipeline) and the tensor path (models) agree on random pixels, every mode', () => {
  const modes: PreprocessMode[] = ['caffe', 'tf', 'torch', 'vgg16', 'resnet50', 'inceptionv3'];
  const random = mulberry32(7);
  const raw = Float32Array.from({ length: 5 * 4 * 3 }, () => Math.round(random() * 2550) / 10);
  for (const mode of modes) {
    const fromPixels = preprocessPixels(raw.slice(), mode);
    const fromTensor = preprocessInput(tf.tensor4d(raw, [1, 5, 4, 3]), mode).dataSync();
    assert.notDeepEqual(Array.from(fromPixels), Array.from(raw), `${mode} changes the pixels`);
    close(fromTensor, Array.from(fromPixels), 1e-4);
  }
  // One spelling per base: the other InceptionV3 spellings fail on both paths with the one that works.
  assert.throws(
    () => preprocessPixels(raw.slice(), 'inception_v3' as PreprocessMode),
    /unknown mode "inception_v3".*'inceptionv3'/,
  );
  assert.throws(
    () => preprocessInput(tf.zeros([1, 3]), 'inceptionV3' as PreprocessMode),
    /unknown mode "inceptionV3"/,
  );
});

test('PreprocessInput layer inside a model gives the function result and survives save/load', async () => {
  const input = tf.input({ shape: [1, 2, 3] });
  const out = new PreprocessInput({ mode: 'vgg16' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const direct = preprocessInput(pixels(), 'caffe').dataSync();
  close((model.predict(pixels()) as tf.Tensor).dataSync(), Array.from(direct));
  const dir = `${tmpDir('pp-')}/model`;
  await saveModel(model, dir);
  const back = await loadModel(dir);
  assert.equal(back.layers[1].getClassName(), 'PreprocessInput');
  close((back.predict(pixels()) as tf.Tensor).dataSync(), Array.from(direct));
});
