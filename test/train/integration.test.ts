// The VGG16-GTSRB cell end to end on real files: a real (randomly initialised, small) VGG16 from
// lib/models, lib/data's folder dataset with augmentation, cached features with K draws, all four
// callbacks, then fine-tuning the top of the base on features cached at a block boundary.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { vgg16 } from '../../lib/models/applications/vgg16';
import { freeze } from '../../lib/models/freeze';
import { loadModel } from '../../lib/models/saveload';
import { flowFromDirectory } from '../../lib/data/directory';
import { ImageDataGenerator } from '../../lib/data/augment';
import { buildHead, HEADS } from '../../lib/train/heads';
import { compile, adam } from '../../lib/train/compile';
import { trainPhase, evaluateMetrics } from '../../lib/train/loop';
import { cachedFeatures } from '../../lib/train/cache';
import { fineTune } from '../../lib/train/finetune';
import {
  EarlyStopping,
  ReduceLROnPlateau,
  ModelCheckpoint,
  CSVLogger,
} from '../../lib/train/callbacks';
import { GTSRB40, skipUnless, tmpDir } from '../helpers';

const CLASSES = ['0', '1', '2'];
const SIZE: [number, number] = [32, 32];

before(async () => {
  await tf.setBackend('wasm'); // forward passes of the base; the fine-tuning step switches to cpu
});

test(
  'VGG16 head on GTSRB-40 with cached features and four callbacks, then fine-tune block5 from a block4 cache',
  { skip: skipUnless(GTSRB40) },
  async () => {
    const dir = tmpDir('vgg-');
    const load = {
      targetSize: SIZE,
      batchSize: 16,
      classes: CLASSES,
      classMode: 'sparse' as const,
      preprocessing: 'caffe' as const,
      seed: 42,
      verbose: false,
    };
    const train = flowFromDirectory(path.join(GTSRB40, 'Train'), {
      ...load,
      shuffle: true,
      augment: new ImageDataGenerator({ rotationRange: 10, zoomRange: 0.1 }),
    });
    const valid = flowFromDirectory(path.join(GTSRB40, 'Valid'), { ...load, shuffle: false });
    assert.equal(train.size, 84);

    const base = await vgg16({ includeTop: false, weights: null, inputShape: [...SIZE, 3] });
    freeze(base);
    const model = buildHead(base, HEADS.vgg16Gtsrb({ classes: 3, units: 32 }));
    compile(model, {
      optimizer: adam({ learningRate: 1e-3 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const trainCache = await cachedFeatures(model, train, {
      dir: path.join(dir, 'cache'),
      drawsPerImage: 2,
    });
    const validCache = await cachedFeatures(model, valid, { dir: path.join(dir, 'cache') });
    assert.equal(trainCache.boundary, 'block5_pool');
    const baseline = await evaluateMetrics(model, validCache, { verbose: 0 });
    assert.ok(Math.abs(baseline.loss - Math.log(3)) < 1, 'an untrained head is near chance');

    const ckpt = path.join(dir, 'tl_best.keras');
    const csv = path.join(dir, 'train_log.csv');
    const tl = await trainPhase({
      model,
      train: trainCache,
      validation: validCache,
      epochs: 4,
      name: 'transfer learning',
      verbose: 0,
      callbacks: [
        new EarlyStopping({ patience: 3, restoreBestWeights: true }),
        new ReduceLROnPlateau({ factor: 0.5, patience: 1 }),
        new ModelCheckpoint(ckpt, { saveBestOnly: true }),
        new CSVLogger(csv),
      ],
    });
    assert.equal(tl.epochs.length, 4);
    assert.equal(trainCache.stats.computed, 2 * 84, 'two augmentation draws computed once');
    assert.equal(fs.readFileSync(csv, 'utf8').trim().split('\n').length, 5);
    const saved = await loadModel(ckpt);
    assert.equal(saved.layers.length, model.layers.length);
    saved.dispose();

    // Fine-tune block5_conv3 + head on features cached at block5_conv2 (the frozen part never runs again).
    // The features are computed on wasm; the training step runs on cpu (wasm has no Conv2DBackpropFilter).
    const best = await loadModel(ckpt);
    const ftTrain = await cachedFeatures(best, train, {
      layer: 'block5_conv2',
      dir: path.join(dir, 'cache'),
      drawsPerImage: 2,
    });
    const ftValid = await cachedFeatures(best, valid, {
      layer: 'block5_conv2',
      dir: path.join(dir, 'cache'),
    });
    await ftTrain.precompute({ verbose: false });
    await ftValid.precompute({ verbose: false });
    await tf.setBackend('cpu');
    const ft = await fineTune({
      from: best,
      freezeUpTo: 'block5_conv3',
      compile: {
        optimizer: adam({ learningRate: 1e-5 }),
        loss: 'sparseCategoricalCrossentropy',
        metrics: ['accuracy'],
      },
      previous: tl,
      train: ftTrain,
      validation: ftValid,
      epochs: 5, // Keras' total_epochs: 4 before, 1 now
      stepsPerEpoch: 1,
      verbose: 0, // one step: cpu backprop is slow
    });
    assert.deepEqual(
      ft.history.phases.map((p) => p.startEpoch),
      [0, 4],
    );
    assert.equal(ft.phase.epochs[0].epoch, 4);
    assert.ok(Number.isFinite(ft.phase.epochs[0].metrics.val_loss));
    // The conv layer really trained.
    const before = (await loadModel(ckpt)).getLayer('block5_conv3').getWeights()[0].dataSync();
    const after = ft.model.getLayer('block5_conv3').getWeights()[0].dataSync();
    assert.ok(before.some((v, i) => v !== after[i]));
    await tf.setBackend('wasm');
    fs.rmSync(dir, { recursive: true, force: true });
  },
);
