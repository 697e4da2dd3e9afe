// The evaluation cells on real images (GTSRB-40 validation split, 43 classes): a preprocessed
// dataset from lib/data, a small untrained model, then report, confusion matrix and grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { imageDatasetFromDirectory } from '../../lib/data/directory';
import { classificationReport } from '../../lib/evaluate/report';
import { confusionMatrix } from '../../lib/evaluate/metrics';
import { evaluateWithPredictions } from '../../lib/evaluate/evaluate';
import { plotConfusionMatrix } from '../../lib/charts/confusion';
import { predictGrid } from '../../lib/charts/grid';
import { GTSRB40, skipUnless } from '../helpers';

test(
  'GTSRB-40 validation: evaluate, report, 43-class confusion matrix and prediction grid',
  { skip: skipUnless(GTSRB40) },
  async () => {
    await tf.setBackend('cpu');
    const ds = imageDatasetFromDirectory(path.join(GTSRB40, 'Valid'), {
      imageSize: [24, 24],
      batchSize: 64,
      shuffle: false,
      preprocessing: 'caffe',
      verbose: false,
    });
    assert.equal(ds.classNames.length, 43);
    const model = tf.sequential({
      layers: [
        tf.layers.globalAveragePooling2d({ inputShape: [24, 24, 3] }),
        tf.layers.dense({
          units: 43,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
      ],
    });
    const ev = await evaluateWithPredictions(model, ds, { topK: 5, show: false });
    assert.equal(ev.size, 516);
    assert.equal(ev.labels.filter((l) => l === 0).length, 12, '12 validation images per class');
    assert.ok(ev.topKAccuracy >= ev.accuracy && ev.loss > 0);
    const report = classificationReport(ev.labels, ev.predicted, ds.classNames, { show: false });
    assert.equal(report.classes.length, 43);
    assert.ok(report.classes.every((c) => c.support === 12));
    const cm = confusionMatrix(ev.labels, ev.predicted, 43);
    const chart = await plotConfusionMatrix(cm, ds.classNames, { show: false });
    assert.match(chart.text, /43 classes \(numeric order\), 516 images/);
    assert.equal(report.text.split('\n')[2].trim().split(/\s+/)[0], '0');
    assert.equal(
      report.text.split('\n')[4].trim().split(/\s+/)[0],
      '2',
      'rows by class number, not folder order',
    );
    const grid = await predictGrid(null, ds, {
      rows: 4,
      cols: 4,
      predicted: ev.predicted,
      show: false,
    });
    assert.equal(grid.total, 16);
    assert.equal(
      grid.correct,
      grid.indices.filter((i, j) => ev.labels[i] === grid.predicted[j]).length,
    );
    const meta = await sharp(grid.png).metadata();
    assert.equal(meta.width, 4 * 136 + 8);
  },
);
