// The real GTSRB-40 copy (skips on a machine without ../shared/data/gtsrb-40).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { imageDatasetFromDirectory, flowFromDirectory } from '../../lib/data/directory';
import { datasetFromCsv } from '../../lib/data/csv';
import { GTSRB40, skipUnless } from '../helpers';

const skip = skipUnless(GTSRB40);

test('GTSRB-40: 1,204 train and 516 valid files, 43 classes in string order', { skip }, () => {
  const train = imageDatasetFromDirectory(path.join(GTSRB40, 'Train'), {
    verbose: false,
    imageSize: [32, 32],
    seed: 1,
  });
  const valid = flowFromDirectory(path.join(GTSRB40, 'Valid'), {
    verbose: false,
    targetSize: [32, 32],
  });
  assert.equal(train.size, 1204);
  assert.equal(valid.size, 516);
  assert.equal(train.classNames.length, 43);
  assert.deepEqual(train.classNames.slice(0, 4), ['0', '1', '10', '11']);
  assert.deepEqual(valid.classNames, train.classNames);
  for (let c = 0; c < 43; c++) assert.equal(train.labels.filter((l) => l === c).length, 28);
});

test('GTSRB-40 Test.csv: 1,988 rows mapped by class name, images load', { skip }, async () => {
  await tf.setBackend('cpu');
  const classNames = imageDatasetFromDirectory(path.join(GTSRB40, 'Train'), {
    verbose: false,
  }).classNames;
  const test = datasetFromCsv(path.join(GTSRB40, 'Test.csv'), {
    verbose: false,
    classNames,
    imageSize: [24, 24],
    batchSize: 8,
  });
  assert.equal(test.size, 1988);
  // the first row is ClassId 16: index of the NAME '16' in string order
  assert.equal(test.labels[0], classNames.indexOf('16'));
  assert.equal(classNames[test.labels[0]], '16');
  const raw = datasetFromCsv(path.join(GTSRB40, 'Test.csv'), {
    verbose: false,
    classNames,
    labelMapping: 'raw',
  });
  assert.equal(raw.labels[0], 16);
  const start = tf.memory().numTensors;
  const b = await test.load([0, 1, 2, 3]);
  assert.deepEqual(b.xs.shape, [4, 24, 24, 3]);
  const max = b.xs.max();
  assert.ok((await max.data())[0] > 50);
  tf.dispose([b.xs, b.ys!, max]);
  assert.equal(tf.memory().numTensors, start);
});
