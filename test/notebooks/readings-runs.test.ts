// The readings on runs that show something else than the default quick run (issue 23): notebook 01
// configured to overfit on purpose, and notebook 03 on the real GTSRB-40 images. Each run's computed
// sentences must agree with its own numbers: the curve reading with the CSV log, the disclosure with
// the data and weights, the conclusion with its evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyterPython, registerKernel, ROOT } from '../../scripts/platform/jupyter';
import { executeNotebook } from '../../scripts/platform/execute';
import { GTSRB40, skipUnless, tmpDir } from '../helpers';
import { heldModelProblems } from './lessons';
import { markdownOutputs, readingProblems } from './readings-check';
import type { Notebook } from './report-checks';

const python = findJupyterPython();
/** Notebook 03's quick run on real GTSRB-40 with the stand-in: its test accuracy must reach this. */
const MIN_REAL_TEST_ACCURACY = 0.3;
const noJupyter = python ? false : 'Jupyter is not installed (run `npm run setup`)';

/** Every train_log.csv under `dir`. */
function findLogs(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name === name) out.push(path.join(e.parentPath, e.name));
  return out;
}

function readCsv(file: string): Record<string, number>[] {
  const [head, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const keys = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i], Number(v)])));
}

// No dropout, no L2, no label smoothing, one fixed augmentation draw, a constant learning rate and
// epochs that nothing stops: the head memorises its 144 training images, and its validation loss
// turns up after its minimum. The whole training set is one batch: the head's BatchNormalization then
// normalises with the same statistics at every step. With batches of 32 (or 8) the stand-in's
// heavy-tailed features (largest value ~17 standard deviations out) made every step's statistics
// differ, the training loss stayed noisy near 1 after 150 epochs and the validation loss never rose
// clearly. 400 one-step epochs take about a minute.
const OVERFIT = {
  dropout: 0,
  rerunDropout: 0,
  l2: 0,
  labelSmoothing: 0,
  syntheticPerClass: [12, 24, 8],
  batchSize: 144,
  learningRate: 1e-3,
  epochs: 400,
  cachedDraws: 1,
  earlyStopping: { patience: 400, minDelta: 0.001 },
  reduceLr: { factor: 0.2, patience: 400, cooldown: 1, minLr: 1e-6 },
};

test(
  'notebook 01 set to overfit: the curve reading says overfitting, where the log shows it',
  {
    skip: noJupyter,
    timeout: 25 * 60_000,
  },
  async () => {
    registerKernel();
    const out = tmpDir('nb-overfit-');
    const s = await executeNotebook(
      path.join(ROOT, 'notebooks', '01-resnet50-stanford-cars-transfer-learning.ipynb'),
      {
        python: python!,
        outDir: out,
        profile: 'quick',
        env: {
          GTSRB_DIR: '',
          CARS_DIR: '',
          NB_SET: JSON.stringify(OVERFIT),
          NB_CACHE_DIR: path.join(out, 'cache'),
        },
      },
    );
    assert.equal(s.ok, true, `cell In [${s.cell}]: ${s.error}`);
    const executed = JSON.parse(fs.readFileSync(s.executed, 'utf8')) as Notebook;
    const mds = markdownOutputs(executed);
    const plain = executed.cells
      .flatMap((c) => c.outputs ?? [])
      .map((o) => [o.data?.['text/plain'] ?? ''].flat().join(''));
    assert.ok(
      plain.some((t) => t.includes('NB_SET changed dropout, rerunDropout, l2')),
      'the settings say what NB_SET changed',
    );

    // The first phase's log, as the CSVLogger wrote it.
    const [log] = findLogs(path.join(out, 'cache'), 'train_log.csv');
    assert.ok(log, 'train_log.csv');
    const rows = readCsv(log);
    const val = rows.map((r) => r.val_loss);
    const loss = rows.map((r) => r.loss);
    const best = val.indexOf(Math.min(...val));
    const n = val.length;
    assert.equal(n, OVERFIT.epochs, 'nothing stopped the run');
    assert.ok(best < n - 1, `val_loss lowest at the last epoch (${val.join(', ')})`);
    assert.ok(val[n - 1] - val[best] > 0.02 * val[0], 'val_loss rose after its minimum');
    // a trend, not one noisy epoch: the last 20 epochs above the 20 around the minimum
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const around = val.slice(Math.max(0, best - 10), best + 10);
    assert.ok(mean(val.slice(-20)) - mean(around) > 0.02 * val[0], 'val_loss rose as a trend');
    assert.ok(loss[n - 1] < loss[best], 'training loss kept falling');

    const curve = mds.find((m) => m.startsWith(`Over ${n} epochs the training loss`));
    assert.ok(curve, 'the reading of the first phase');
    assert.match(curve, new RegExp(`bottomed out at epoch ${best + 1} .*the model overfits`));
    assert.doesNotMatch(curve, /under-trained|levelled off/);
    assert.deepEqual(heldModelProblems(s.metrics), []);
    assert.deepEqual(
      readingProblems(executed, s.metrics, { realData: false, walkthrough: true }),
      [],
    );
  },
);

test(
  'notebook 03 on the real GTSRB-40 images: the readings agree with the numbers',
  { skip: noJupyter || skipUnless(GTSRB40), timeout: 60 * 60_000 },
  async () => {
    registerKernel();
    const out = tmpDir('nb-gtsrb40-');
    const s = await executeNotebook(
      path.join(ROOT, 'notebooks', '03-vgg16-gtsrb-fine-tuning.ipynb'),
      {
        python: python!,
        outDir: out,
        profile: 'quick',
        // One from-scratch epoch, not 12: at 48 px twelve take most of an hour on 2 cores, and this
        // test is about the readings and the fine-tuned model (the from-scratch run reads as such).
        env: { GTSRB_DIR: GTSRB40, CARS_DIR: '', NB_SET: JSON.stringify({ scratchEpochs: 1 }) },
      },
    );
    assert.equal(s.ok, true, `cell In [${s.cell}]: ${s.error}`);
    const executed = JSON.parse(fs.readFileSync(s.executed, 'utf8')) as Notebook;
    assert.match(String(s.metrics.data), /GTSRB/);
    assert.deepEqual(heldModelProblems(s.metrics), []);
    assert.deepEqual(
      readingProblems(executed, s.metrics, { realData: true, walkthrough: true }),
      [],
    );
    const mds = markdownOutputs(executed);
    // Against the published 96.3%: a different setup, whose differences are named.
    const diff = mds.find((m) => m.startsWith('The walkthrough reported'));
    assert.ok(diff, 'the published comparison');
    if (!/^ImageNet/.test(String(s.metrics.weights)))
      assert.match(diff, /weights: stand-in .* \(walkthrough: ImageNet\)/);
    // GTSRB's photos run at 48 px on the 32-px stand-in (notebook 03's config cell says why).
    assert.match(diff, /imageSize: \[48, 48\] \(walkthrough: \[224, 224\]\)/);
    // What the offline stand-in carries to GTSRB's official test images after 12 epochs on 28 real
    // images per class at 48 px (README, *GTSRB's photos at 48 px*). The stand-in depends on the CPU
    // and thread count it was built with: 45.0% with machine B's one-thread build, 37.7% with machine
    // C's two-thread build (36.2% at 32 px; 6.5% from the initialisation alone). Issue 27 asks for
    // 50%; 30% keeps a margin under the builds measured, so a change that loses the gain fails.
    if (!/^ImageNet/.test(String(s.metrics.weights))) {
      const testAccuracy = Number(s.metrics.test_accuracy);
      assert.ok(
        testAccuracy >= MIN_REAL_TEST_ACCURACY,
        `fine-tuned on real GTSRB-40: ${(testAccuracy * 100).toFixed(1)}% on the official test images, below ${MIN_REAL_TEST_ACCURACY * 100}%`,
      );
    }
  },
);
