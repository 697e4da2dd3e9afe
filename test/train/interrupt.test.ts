// Every long call stops on Jupyter's Interrupt after its current batch: the same signal path as the
// kernel's SIGINT (interruptNow), fired while a batch is loaded. Each call rejects with Interrupted,
// loads nothing more, and leaves the model as the call promises (lrFind: weights put back).
// The real-kernel version (CPU idle, no late output) is test/platform/interrupt.test.ts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { Interrupted, interruptNow } from '../../lib/io/interrupt';
import { buildHead } from '../../lib/train/heads';
import { compile, adam } from '../../lib/train/compile';
import { evaluateMetrics, trainPhase } from '../../lib/train/loop';
import { cachedFeatures } from '../../lib/train/cache';
import { evaluateWithPredictions } from '../../lib/evaluate/evaluate';
import { lrFind } from '../../lib/charts/lr-find';
import { predictGrid } from '../../lib/charts/grid';
import { plotTopLosses } from '../../lib/charts/top-losses';
import { gradCamGrid } from '../../lib/charts/grad-cam';
import { fakeDataset, tinyBase, setDeterministicWeights, type FakeDataset } from './fake-dataset';
import { freezeAll } from './util';
import { tmpDir } from '../helpers';

before(async () => {
  await tf.setBackend('cpu');
});

/** Fire the interrupt while the `at`-th batch loads (counting over every copy of the dataset). */
function interruptAt(ds: FakeDataset, at: number): { loads: () => number } {
  let loads = 0;
  const wrap = (d: FakeDataset): FakeDataset => {
    const load = d.load.bind(d);
    d.load = async (indices, o) => {
      if (++loads === at) assert.ok(interruptNow({ quiet: true }), 'a long call was running');
      return load(indices, o);
    };
    const plain = d.withoutAugmentation.bind(d);
    d.withoutAugmentation = () => wrap(plain() as FakeDataset);
    return d;
  };
  wrap(ds);
  return { loads: () => loads };
}

/** Small PNGs named as fakeDataset names its files, so the grids can draw the originals. */
async function pngFiles(n: number): Promise<string> {
  const dir = tmpDir('int-files-');
  for (let i = 0; i < n; i++)
    await sharp({
      create: { width: 8, height: 8, channels: 3, background: { r: 9 * i, g: 80, b: 160 } },
    })
      .png()
      .toFile(path.join(dir, `img${i}.bin`));
  return dir;
}

function headModel() {
  const base = tinyBase();
  freezeAll(base);
  const m = buildHead(base, [{ type: 'globalAveragePooling' }, { type: 'output', classes: 3 }]);
  setDeterministicWeights(m, 7);
  return compile(m, {
    optimizer: adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
  });
}

const calls: [string, (m: tf.LayersModel, ds: FakeDataset) => Promise<unknown>][] = [
  ['trainPhase', (m, ds) => trainPhase({ model: m, train: ds, epochs: 5, verbose: 0 })],
  ['evaluateMetrics', (m, ds) => evaluateMetrics(m, ds, { verbose: 0 })],
  ['evaluateWithPredictions', (m, ds) => evaluateWithPredictions(m, ds, { show: false })],
  ['lrFind', (m, ds) => lrFind(m, ds, { iterations: 30, show: false })],
  ['predictGrid', (m, ds) => predictGrid(m, ds, { rows: 4, cols: 4, show: false })],
  ['plotTopLosses', (m, ds) => plotTopLosses(m, ds, { k: 4, show: false })],
  ['gradCamGrid', (m, ds) => gradCamGrid(m, ds, { count: 6, show: false })],
  [
    'cachedFeatures precompute',
    async (m, ds) =>
      (await cachedFeatures(m, ds, { dir: tmpDir('int-feat-') })).precompute({ verbose: false }),
  ],
];

for (const [name, call] of calls) {
  test(`${name} stops after the batch during which the interrupt came`, async () => {
    const m = headModel();
    const ds = fakeDataset({ n: 48, batchSize: 4, fileDir: await pngFiles(48) });
    const weights = m.getWeights().map((w) => Array.from(w.dataSync()));
    const { loads } = interruptAt(ds, 2);
    await assert.rejects(call(m, ds), Interrupted);
    // The batch in flight (and a prefetched one) may finish; nothing after it is loaded.
    assert.ok(loads() <= 3, `${name} loaded ${loads()} batches after the interrupt at the 2nd`);
    if (name === 'lrFind')
      assert.deepEqual(
        m.getWeights().map((w) => Array.from(w.dataSync())),
        weights,
        'lrFind puts the weights back when interrupted',
      );
    // The next call (a new cell) is not stopped by the old interrupt.
    const logs = await evaluateMetrics(m, fakeDataset({ n: 8, batchSize: 4 }), { verbose: 0 });
    assert.ok(Number.isFinite(logs.loss));
  });
}
