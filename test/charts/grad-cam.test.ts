// Grad-CAM on a model whose answer is known: a hand-built detector of red and green squares, with a
// preprocessing layer, a nested base, Keras batch norm and pooling. Images carry a red square in one
// region and a green square in another; the heatmap of "red" must peak in the red square and the
// heatmap of "green" in the green one.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { gradCam, gradCamGrid, gradCamMaps, lastConvLayer } from '../../lib/charts/grad-cam';
import { imageDatasetFromDirectory } from '../../lib/data/directory';
import { kerasBatchNormalization } from '../../lib/models/batchnorm';
import { preprocessInputLayer } from '../../lib/data/preprocess';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

const SIZE = 32;
const CLASSES = ['green', 'red']; // folder order
type Box = { x0: number; y0: number; x1: number; y1: number }; // inclusive

/** Class c's detector on torch-preprocessed pixels: its colour channel minus half of the two others. */
function squareDetector(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'pixels' });
  const baseIn = tf.input({ shape: [SIZE, SIZE, 3], name: 'base_input' });
  let x = tf.layers
    .conv2d({ filters: 2, kernelSize: 1, name: 'detect_conv' })
    .apply(baseIn) as tf.SymbolicTensor;
  x = kerasBatchNormalization({ name: 'detect_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'features' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const base = tf.model({ inputs: baseIn, outputs: x, name: 'detector_base' });
  let y = preprocessInputLayer({ mode: 'torch', name: 'preprocess' }).apply(
    input,
  ) as tf.SymbolicTensor;
  y = base.apply(y) as tf.SymbolicTensor;
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .dense({ units: 2, activation: 'softmax', name: 'predictions' })
    .apply(y) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y, name: 'square_detector' });
  // Output channel 0 detects green (class 0), channel 1 red (class 1), on RGB inputs.
  const kernel = [
    [-0.5, 1],
    [1, -0.5],
    [-0.5, -0.5],
  ]; // [in RGB][out green, red]
  tf.tidy(() => {
    base
      .getLayer('detect_conv')
      .setWeights([tf.tensor4d(kernel.flat(), [1, 1, 3, 2]), tf.fill([2], -0.5)]);
    base
      .getLayer('detect_bn')
      .setWeights([
        tf.tensor1d([2, 2]),
        tf.tensor1d([0, 0]),
        tf.tensor1d([0.1, 0.1]),
        tf.tensor1d([1, 1]),
      ]);
    model.getLayer('predictions').setWeights([
      tf.tensor2d([
        [4, 0],
        [0, 4],
      ]),
      tf.zeros([2]),
    ]);
  });
  return model;
}

/** Grey noise with a red and a green square. */
async function writeImage(file: string, red: Box, green: Box, seed: number): Promise<void> {
  const px = Buffer.alloc(SIZE * SIZE * 3);
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const inside = (b: Box, x: number, y: number) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const g = 110 + Math.round(40 * rnd());
      const c = inside(red, x, y) ? [230, 20, 20] : inside(green, x, y) ? [20, 220, 20] : [g, g, g];
      px.set(c, (y * SIZE + x) * 3);
    }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(file);
}

function peak(map: Float32Array, w: number): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return { x: best % w, y: Math.floor(best / w) };
}
function massInside(map: Float32Array, w: number, b: Box): number {
  let inside = 0,
    total = 0;
  map.forEach((v, i) => {
    const x = i % w,
      y = Math.floor(i / w);
    total += v;
    if (x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1) inside += v;
  });
  return inside / total;
}
const within = (p: { x: number; y: number }, b: Box) =>
  p.x >= b.x0 && p.x <= b.x1 && p.y >= b.y0 && p.y <= b.y1;

test('the default layer is the last spatial feature map, pooling skipped, found inside a nested base', () => {
  assert.equal(lastConvLayer(squareDetector()), 'features');
});

test('Grad-CAM peaks where the class is: red square for "red", green square for "green"', async () => {
  const dir = tmpDir('gradcam-');
  const red: Box = { x0: 2, y0: 3, x1: 12, y1: 13 };
  const green: Box = { x0: 20, y0: 21, x1: 26, y1: 27 };
  const file = path.join(dir, 'img.png');
  await writeImage(file, red, green, 7);
  const model = squareDetector();
  const r = await gradCam(model, file, { classIndex: 0, classNames: CLASSES, show: false });
  if (process.env.GRADCAM_PNG) fs.writeFileSync(process.env.GRADCAM_PNG, r.png);
  assert.equal(r.layer, 'features');
  assert.equal(r.score, 'logit');
  assert.equal(r.predicted, 1, 'the red square is bigger, so "red" wins');
  assert.deepEqual(
    r.maps.map((m) => m.className),
    ['red', 'green'],
  );
  const [redMap, greenMap] = r.maps;
  assert.equal(redMap.width, SIZE);
  assert.ok(
    within(peak(redMap.heatmap, SIZE), red),
    `red peak at ${JSON.stringify(peak(redMap.heatmap, SIZE))}`,
  );
  assert.ok(
    within(peak(greenMap.heatmap, SIZE), green),
    `green peak at ${JSON.stringify(peak(greenMap.heatmap, SIZE))}`,
  );
  assert.ok(massInside(redMap.heatmap, SIZE, red) > 0.9);
  assert.ok(massInside(greenMap.heatmap, SIZE, green) > 0.9);
  assert.ok(Math.abs(Math.max(...redMap.heatmap) - 1) < 1e-6, 'normalised to a maximum of 1');
  // The model is left as it was: softmax outputs, no patched layer.
  const p = tf.tidy(
    () => (model.predict(tf.fill([1, SIZE, SIZE, 3], 128)) as tf.Tensor).sum().dataSync()[0],
  );
  assert.ok(Math.abs(p - 1) < 1e-5);
  const features = (model.getLayer('detector_base') as tf.LayersModel).getLayer('features');
  assert.ok(!Object.prototype.hasOwnProperty.call(features, 'call'));
  // Three tiles side by side: image, predicted, chosen.
  const meta = await sharp(r.png).metadata();
  assert.ok(meta.width! > 3 * 192 && meta.width! < 4 * 192, `width ${meta.width}`);
  // The heatmap over the red square is warm (jet: red/yellow) in the predicted tile.
  assert.ok(r.png.length > 1000);
});

test('a batch explains each image for its own class; an earlier layer can be chosen', () => {
  const model = squareDetector();
  const xs = tf.tidy(() => {
    const a = tf.buffer([2, SIZE, SIZE, 3]);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++)
        for (let c = 0; c < 3; c++) {
          a.set(120, 0, y, x, c);
          a.set(120, 1, y, x, c);
        }
    for (let y = 4; y < 10; y++)
      for (let x = 4; x < 10; x++) {
        a.set(230, 0, y, x, 0);
        a.set(20, 0, y, x, 1);
        a.set(20, 0, y, x, 2);
      }
    for (let y = 20; y < 26; y++)
      for (let x = 22; x < 28; x++) {
        a.set(20, 1, y, x, 0);
        a.set(220, 1, y, x, 1);
        a.set(20, 1, y, x, 2);
      }
    return a.toTensor() as tf.Tensor4D;
  });
  gradCamMaps(model, xs, [1, 0], 'detect_bn'); // builds lazily-created state once
  const tensors = tf.memory().numTensors;
  const r = gradCamMaps(model, xs, [1, 0], 'detect_bn');
  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
  assert.equal(r.layer, 'detect_bn');
  assert.ok(within(peak(r.maps[0], SIZE), { x0: 4, y0: 4, x1: 9, y1: 9 }));
  assert.ok(within(peak(r.maps[1], SIZE), { x0: 22, y0: 20, x1: 27, y1: 25 }));
  assert.throws(() => gradCamMaps(model, xs, null, 'gap'), /not a \[batch, h, w, channels\]/);
  assert.throws(() => gradCamMaps(model, xs, null, 'nope'), /no layer "nope"/);
  assert.throws(
    () => gradCamMaps(model, xs, null, 'detector_base'),
    /nested model; pass one of its layers, e.g. "features"/,
  );
  assert.throws(() => gradCamMaps(model, xs, [5, 0]), /classIndex 5/);
  xs.dispose();
});

test('gradCamGrid explains dataset images with the dataset preprocessing', async () => {
  const dir = tmpDir('gradcam-ds-');
  const big: Box = { x0: 3, y0: 3, x1: 14, y1: 14 };
  const small: Box = { x0: 22, y0: 22, x1: 25, y1: 25 };
  await writeImage(path.join(dir, 'red', 'a.png'), big, small, 1);
  await writeImage(path.join(dir, 'green', 'b.png'), small, big, 2);
  await writeImage(path.join(dir, 'green', 'c.png'), big, small, 3); // labelled green, looks red
  const ds = imageDatasetFromDirectory(dir, {
    imageSize: [SIZE, SIZE],
    shuffle: false,
    verbose: false,
  });
  assert.deepEqual(ds.classNames, CLASSES);
  const r = await gradCamGrid(squareDetector(), ds, { indices: [0, 1, 2], show: false });
  if (process.env.GRADCAM_PNG) fs.writeFileSync(process.env.GRADCAM_PNG + '.grid.png', r.png);
  assert.deepEqual(r.predicted, [0, 1, 1]);
  const meta = await sharp(r.png).metadata();
  assert.ok(meta.height! > 3 * 160, `${meta.height}`);
  await assert.rejects(
    gradCamGrid(squareDetector(), ds, { indices: [9], show: false }),
    /outside the dataset/,
  );
});
