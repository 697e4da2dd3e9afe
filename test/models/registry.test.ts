// The architecture registry: every fact of a base in its record, read by the stand-in, preprocessing,
// downloads and benches. A new base is its module, one registry line and a test like the last one here.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  application,
  architecture,
  architectures,
  registerArchitecture,
} from '../../lib/models/architectures';
import type { ApplicationOptions, Architecture } from '../../lib/models/architecture';
import {
  apply1,
  applyWeights,
  globalPool,
  kerasConv2d,
  resolveOptions,
  AUTO_POOL_NAMES,
} from '../../lib/models/applications/common';
import { weightsLabel } from '../../lib/models/choose-weights';
import { PRETEXT_LABEL, pretextWeightsLocation } from '../../lib/models/pretext';
import { hasBatchNorm } from '../../lib/models/batchnorm';
import { preprocessInput, preprocessPixels } from '../../lib/data/preprocess';
import { downloadList } from '../../scripts/download-weights';
import { benchCases } from '../../bench/models.bench';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

test("each built-in record's layer boundaries name the layers its base really has there", async () => {
  assert.deepEqual(
    architectures().map((a) => a.name),
    ['vgg16', 'resnet50', 'inceptionv3'],
  );
  for (const a of architectures()) {
    const m = await a.build({
      includeTop: false,
      weights: null,
      inputShape: [a.minSize, a.minSize, 3],
    });
    const { fineTuneFrom, cacheAt, lastBlockFrom } = a.boundaries;
    assert.equal(
      m.layers[fineTuneFrom - 1].name,
      cacheAt,
      `${a.name}: layers[${fineTuneFrom - 1}]`,
    );
    if (typeof lastBlockFrom === 'string') assert.ok(m.getLayer(lastBlockFrom), a.name);
    else assert.ok(lastBlockFrom > fineTuneFrom - 1 && lastBlockFrom < m.layers.length, a.name);
    assert.ok(a.standIn.quickSize >= a.minSize && a.benchSize >= a.minSize, a.name);
    // One stand-in for every input side only where no layer's statistics depend on the side.
    assert.equal(a.standIn.sizeIndependent, !hasBatchNorm(m), `${a.name}: sizeIndependent`);
    m.dispose();
  }
  // The stand-ins already pretrained in ~/.keras/models are found by name, by this exact JSON and by
  // PRETEXT_VERSION (3 since bases with BatchNormalization keep He's scale; 2 since the pretext draws
  // bad photographs; its images name no class list).
  assert.deepEqual(
    architectures().map((a) => [a.name, a.standIn.quickSize, JSON.stringify(a.standIn.spec)]),
    [
      ['vgg16', 32, '{"steps":300,"batchSize":32,"learningRate":0.0003,"seed":1}'],
      ['resnet50', 64, '{"steps":100,"batchSize":32,"learningRate":0.001,"seed":1}'],
      ['inceptionv3', 75, '{"steps":150,"batchSize":32,"learningRate":0.001,"seed":1}'],
    ],
  );
  assert.equal(architecture('InceptionV3').boundaries.fineTuneFrom, 249);
  assert.equal(architecture('inception_v3').boundaries.cacheAt, 'mixed8');
  assert.throws(
    () => architecture('vgg19'),
    /Unknown architecture "vgg19": use one of vgg16, resnet50, inceptionv3/,
  );
});

// A tiny base written the way lib/models/applications/*.ts are: its builder and its record.
async function tinyNet(opts: ApplicationOptions = {}): Promise<tf.LayersModel> {
  const o = resolveOptions('tinyNet', opts, TINY_NET);
  const input = tf.input({ shape: o.inputShape, name: 'input_1' });
  let x = apply1(
    kerasConv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'block1_conv1',
    }),
    input,
  );
  x = apply1(tf.layers.maxPooling2d({ poolSize: 2, name: 'block1_pool' }), x);
  x = apply1(
    kerasConv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'block2_conv1',
    }),
    x,
  );
  x = globalPool(x, o.pooling, AUTO_POOL_NAMES);
  return applyWeights(tf.model({ inputs: input, outputs: x, name: 'tiny_net' }), TINY_NET, o, opts);
}
const TINY_NET: Architecture = {
  name: 'tinynet',
  displayName: 'TinyNet',
  build: tinyNet,
  defaultSize: 32,
  minSize: 8,
  preprocessing: 'torch',
  weights: {
    top: { subdir: 'tinynet', file: 'tinynet.h5', md5: '0'.repeat(32) },
    notop: { subdir: 'tinynet', file: 'tinynet_notop.h5', md5: '1'.repeat(32) },
  },
  boundaries: { fineTuneFrom: 3, cacheAt: 'block1_pool', lastBlockFrom: 'block2_conv1' },
  standIn: {
    spec: { steps: 2, batchSize: 4, learningRate: 1e-3, seed: 1 },
    quickSize: 16,
    sizeIndependent: false,
  },
  benchSize: 16,
};

test('a new base registered with one line: auto weights give its stand-in, its name preprocesses, it is downloadable and benched', async () => {
  const unregister = registerArchitecture(TINY_NET);
  const home = tmpDir('keras-home-');
  const saved = { home: process.env.KERAS_HOME, offline: process.env.NB_OFFLINE };
  process.env.KERAS_HOME = home;
  process.env.NB_OFFLINE = '1';
  try {
    assert.equal(architecture('TinyNet'), TINY_NET);
    assert.throws(() => registerArchitecture(TINY_NET), /already registered/);

    // weights: 'auto' offline -> the stand-in, pretrained once at the quick size and labelled so.
    const size = TINY_NET.standIn.quickSize;
    const build = application(TINY_NET);
    const base = await build({
      includeTop: false,
      weights: 'auto',
      inputShape: [size, size, 3],
      quiet: true,
    });
    assert.equal(weightsLabel(base), PRETEXT_LABEL);
    const loc = pretextWeightsLocation(TINY_NET, size);
    assert.equal(path.basename(loc.path), 'tinynet_pretext_generated_signs_16px_notop.h5');
    assert.ok(fs.existsSync(loc.path) && loc.path.startsWith(home));
    const again = await build({
      includeTop: false,
      weights: loc.path,
      inputShape: [size, size, 3],
    });
    const k = (m: tf.LayersModel) => m.getLayer('block2_conv1').getWeights()[0];
    assert.equal(
      tf.sub(k(base), k(again)).abs().max().dataSync()[0],
      0,
      'the saved stand-in loads',
    );

    // Its name is its preprocess_input mode, in the data pipeline's path and in the tensor path.
    const pixels = Float32Array.from([255, 0, 127.5, 10, 20, 30]);
    assert.deepEqual(
      preprocessPixels(pixels.slice(), 'tinynet'),
      preprocessPixels(pixels.slice(), 'torch'),
    );
    const x = tf.tensor2d(pixels, [2, 3]);
    assert.deepEqual(
      preprocessInput(x, 'tinynet').dataSync(),
      preprocessInput(x, 'torch').dataSync(),
    );

    // `npm run download-weights -- tinynet` fetches its notop file from Keras' bucket layout.
    const [item] = downloadList(['TinyNet']);
    assert.equal(item.arch, TINY_NET);
    assert.match(item.url, /\/tinynet\/tinynet_notop\.h5$/);
    assert.equal(item.md5, '1'.repeat(32));
    assert.equal(item.path, path.join(home, 'models', 'tinynet_notop.h5'));

    // `npm run bench -- models` times it at its native and its reduced size.
    const row = benchCases(architectures(), false).find((c) => c.name === 'TinyNet');
    assert.deepEqual(row?.sizes, [32, 16]);
  } finally {
    unregister();
    for (const [k, v] of [
      ['KERAS_HOME', saved.home],
      ['NB_OFFLINE', saved.offline],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.throws(() => architecture('tinynet'), /Unknown architecture/);
  assert.ok(!benchCases().some((c) => c.name === 'TinyNet'));
});

test("lib/data names no base: alone it knows Keras' three modes, and a base's name asks for the registry", () => {
  const code =
    "const { preprocessPixels } = require('./lib/data/preprocess');" +
    "try { preprocessPixels(new Float32Array(3), 'resnet50'); console.log('accepted'); }" +
    'catch (e) { console.log(e.message); }';
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /unknown mode "resnet50".*known once lib\/models\/architectures is loaded/,
  );
});
