// The synthetic offline dataset: layouts, determinism, atomic build, and that a model can learn it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeSyntheticSigns, syntheticClass } from '../../lib/data/synthetic';
import { imageDatasetFromDirectory } from '../../lib/data/directory';
import { datasetFromCsv } from '../../lib/data/csv';
import { isCompleteDataset } from '../../lib/data/prepare/atomic';
import { tmpDir } from '../helpers';

test('GTSRB layout: Train/<id>, Valid/<id>, Test + Test.csv; deterministic; reused when identical', async () => {
  const root = tmpDir('synth-');
  const opts = {
    classes: 12,
    trainPerClass: 3,
    validPerClass: 2,
    testPerClass: 2,
    size: 16,
    seed: 4,
  };
  const r = await makeSyntheticSigns(path.join(root, 'a'), opts);
  assert.equal(r.created, true);
  assert.ok(isCompleteDataset(r.dir));
  const train = imageDatasetFromDirectory(r.trainDir, { verbose: false, imageSize: [16, 16] });
  assert.deepEqual(train.classNames.slice(0, 4), ['0', '1', '10', '11']);
  assert.equal(train.size, 36);
  assert.equal(imageDatasetFromDirectory(r.validDir, { verbose: false }).size, 24);
  const testDs = datasetFromCsv(r.testCsv!, { verbose: false, classNames: train.classNames });
  assert.equal(testDs.size, 24);
  assert.equal(train.classNames[testDs.labels[testDs.size - 1]], '11');
  const b = await makeSyntheticSigns(path.join(root, 'b'), opts);
  const f = (d: string) => fs.readFileSync(path.join(d, 'Train', '7', '00007_00001.png'));
  assert.deepEqual(f(r.dir), f(b.dir), 'same options, same bytes');
  const again = await makeSyntheticSigns(path.join(root, 'a'), opts);
  assert.equal(again.created, false);
  await assert.rejects(
    makeSyntheticSigns(path.join(root, 'a'), { ...opts, seed: 5 }),
    /other settings.*overwrite/,
  );
  const c = await makeSyntheticSigns(path.join(root, 'c'), { ...opts, seed: 5 });
  assert.notDeepEqual(f(r.dir), f(c.dir));
  assert.deepEqual(fs.readdirSync(root).sort(), ['a', 'b', 'c'], 'no temp folders left');
});

test('cars layout: train/validation/test with class-name folders', async () => {
  const r = await makeSyntheticSigns(path.join(tmpDir('synth-'), 'cars'), {
    classes: 5,
    trainPerClass: 2,
    validPerClass: 1,
    testPerClass: 1,
    size: 12,
    layout: 'cars',
  });
  assert.deepEqual(
    fs
      .readdirSync(r.dir)
      .filter((n) => !n.startsWith('.'))
      .sort(),
    ['test', 'train', 'validation'],
  );
  assert.ok(fs.existsSync(path.join(r.dir, 'train', syntheticClass(0).name)));
  assert.equal(imageDatasetFromDirectory(r.testDir, { verbose: false }).size, 5);
  assert.equal(
    new Set(Array.from({ length: 60 }, (_, k) => syntheticClass(k).name)).size,
    60,
    'class names are distinct',
  );
});

test('a small CNN learns the synthetic signs far above chance', async () => {
  await tf.setBackend('cpu');
  const r = await makeSyntheticSigns(path.join(tmpDir('synth-'), 'learn'), {
    classes: 6,
    trainPerClass: 30,
    validPerClass: 15,
    testPerClass: 0,
    size: 16,
    seed: 1,
  });
  const train = imageDatasetFromDirectory(r.trainDir, {
    verbose: false,
    imageSize: [16, 16],
    batchSize: 180,
    rescale: 1 / 255,
    seed: 2,
  });
  const valid = imageDatasetFromDirectory(r.validDir, {
    verbose: false,
    imageSize: [16, 16],
    batchSize: 90,
    rescale: 1 / 255,
    shuffle: false,
  });
  const start = tf.memory().numTensors;
  const t0 = Date.now();
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [16, 16, 3],
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 6,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
  const optimizer = tf.train.adam(0.01);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const all = await train.load(Array.from({ length: train.size }, (_, i) => i));
  const yf = all.ys!.toFloat();
  await model.fit(all.xs, yf, { epochs: 12, batchSize: 30, shuffle: true, verbose: 0 });
  tf.dispose([all.xs, all.ys!, yf]);
  const v = await valid.load(Array.from({ length: valid.size }, (_, i) => i));
  const acc = tf.tidy(
    () => (model.predict(v.xs) as tf.Tensor).argMax(-1).equal(v.ys!).mean().dataSync()[0],
  );
  tf.dispose([v.xs, v.ys!]);
  model.dispose();
  optimizer.dispose();
  assert.ok(acc > 0.5, `validation accuracy ${acc} (chance 1/6)`);
  console.log(`synthetic CNN: validation accuracy ${acc.toFixed(3)} in ${Date.now() - t0} ms`);
  assert.equal(tf.memory().numTensors, start, 'no tensors leaked');
});
