import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { predictGrid, sampleIndices, showBatch } from '../../lib/charts/grid';
import { evaluateWithPredictions } from '../../lib/evaluate/evaluate';
import { brightestChannelModel, tinyDataset } from '../evaluate/tiny-dataset';

/** Count strongly green and strongly red pixels in a rectangle of a PNG. */
async function colourCounts(
  png: Buffer,
  box: { left: number; top: number; width: number; height: number },
) {
  const { data, info } = await sharp(png).extract(box).raw().toBuffer({ resolveWithObject: true });
  let green = 0;
  let red = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (g > r + 50 && g > b + 50) green++;
    if (r > g + 50 && r > b + 50) red++;
  }
  return { green, red };
}

const IMAGES = [
  { label: 0, colour: 'red' as const },
  { label: 1, colour: 'green' as const },
  { label: 2, colour: 'blue' as const },
  { label: 1, colour: 'blue' as const }, // labelled green, predicted blue: wrong
];

test('predictGrid: PNG of the expected size, green titles when right and red when wrong', async () => {
  await tf.setBackend('cpu');
  const ds = await tinyDataset({ images: IMAGES, batchSize: 3 });
  const model = brightestChannelModel();
  const before = tf.memory().numTensors;
  const r = await predictGrid(model, ds, { rows: 2, cols: 2, indices: [0, 1, 2, 3], show: false });
  assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
  assert.deepEqual(r.predicted, [0, 1, 2, 2]);
  assert.equal(r.correct, 3);
  assert.equal(r.total, 4);
  // Layout: tile 128 + pad 8 per column, one 14px title line + 4, then the tile and padding.
  const meta = await sharp(r.png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 2 * (128 + 8) + 8);
  const cellH = 18 + 128 + 8;
  assert.equal(meta.height, 2 * cellH + 8);
  // Title bands: tiles 0..2 green only, tile 3 red only.
  for (let i = 0; i < 4; i++) {
    const band = {
      left: 8 + (i % 2) * 136,
      top: 8 + Math.floor(i / 2) * cellH,
      width: 128,
      height: 18,
    };
    const c = await colourCounts(r.png, band);
    if (i === 3) {
      assert.ok(c.red > 30 && c.green === 0, `tile ${i} title is red: ${JSON.stringify(c)}`);
    } else {
      assert.ok(c.green > 30 && c.red === 0, `tile ${i} title is green: ${JSON.stringify(c)}`);
    }
  }
  // Tiles show the original image: the wrong one (index 3) is blue below its title.
  const tile3 = await sharp(r.png)
    .extract({ left: 8 + 136 + 64, top: 8 + cellH + 18 + 64, width: 1, height: 1 })
    .raw()
    .toBuffer();
  assert.ok(tile3[2] > 200 && tile3[0] < 60, `tile 3 pixel is blue: ${[...tile3]}`);

  // Reusing evaluateWithPredictions()'s predictions gives the same grid without a model.
  const ev = await evaluateWithPredictions(model, ds, { show: false });
  const again = await predictGrid(null, ds, {
    rows: 2,
    cols: 2,
    indices: [0, 1, 2, 3],
    predicted: ev.predicted,
    show: false,
  });
  assert.equal(again.correct, 3);
  assert.ok(again.png.equals(r.png));
  await assert.rejects(predictGrid(null, ds, { show: false }), /pass a model, or opts.predicted/);
  // Only the misclassified images (there is one), or only the right ones.
  const wrong = await predictGrid(null, ds, {
    rows: 2,
    cols: 2,
    predicted: ev.predicted,
    select: 'wrong',
    show: false,
  });
  assert.deepEqual([wrong.indices, wrong.correct, wrong.total], [[3], 0, 1]);
  const right = await predictGrid(null, ds, {
    rows: 2,
    cols: 2,
    predicted: ev.predicted,
    select: 'right',
    show: false,
  });
  assert.deepEqual([[...right.indices].sort(), right.correct], [[0, 1, 2], 3]);
  await assert.rejects(
    predictGrid(model, ds, { select: 'wrong', show: false }),
    /needs the predictions of the whole dataset/,
  );
  await assert.rejects(
    predictGrid(model, ds, { indices: [9], show: false }),
    /index 9 is outside the dataset \(0\.\.3\)/,
  );
});

test('showBatch: class-name titles (dark), seeded sample of distinct images', async () => {
  const ds = await tinyDataset({ images: [...IMAGES, ...IMAGES], batchSize: 4 });
  const a = await showBatch(ds, { rows: 2, cols: 3, seed: 7, show: false });
  const b = await showBatch(ds, { rows: 2, cols: 3, seed: 7, show: false });
  assert.deepEqual(a.indices, b.indices, 'same seed, same images');
  assert.equal(new Set(a.indices).size, 6);
  const meta = await sharp(a.png).metadata();
  assert.equal(meta.width, 3 * (96 + 8) + 8);
  const title = await colourCounts(a.png, { left: 8, top: 8, width: 96, height: 16 });
  assert.equal(title.red + title.green, 0, 'overview titles are not coloured');
  assert.deepEqual(sampleIndices(5, 10, 1).sort(), [0, 1, 2, 3, 4]);
});

test('predictGrid: long class names wrap onto extra title lines', async () => {
  await tf.setBackend('cpu');
  const names = [
    'Chevrolet Silverado 2500HD Regular Cab 2012',
    'Hyundai Elantra Sedan 2007',
    'AM General Hummer SUV 2000',
  ];
  const ds = await tinyDataset({ images: IMAGES, classNames: names });
  const r = await predictGrid(brightestChannelModel(), ds, {
    rows: 1,
    cols: 4,
    indices: [0, 1, 2, 3],
    show: false,
  });
  const meta = await sharp(r.png).metadata();
  assert.ok(
    meta.height! > 8 + 18 + 128 + 8 + 14,
    `taller title band for wrapped names (${meta.height}px)`,
  );
});
