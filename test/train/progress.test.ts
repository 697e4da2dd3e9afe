// Progress in a notebook: one line per phase updated in place, and a live chart redrawn each epoch.
// The kernel is simulated by putting a stand-in for tslab's display writer in require's cache,
// which is where lib/display looks for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildHead } from '../../lib/train/heads';
import { compile, adam } from '../../lib/train/compile';
import { trainPhase } from '../../lib/train/loop';
import { fakeDataset, tinyBase } from './fake-dataset';
import { freezeAll } from './util';

interface Sent {
  data: Record<string, unknown>;
  displayId?: string;
  update: boolean;
}
const sent: Sent[] = [];
const fakeWriter = path.join(__dirname, 'node_modules', 'tslab', 'dist', 'jupyter.js');

before(async () => {
  await tf.setBackend('cpu');
  require.cache[fakeWriter] = {
    exports: {
      lastWriteDisplayData: (
        msg: { data: Record<string, unknown>; transient: { display_id?: string } },
        update: boolean,
      ) => void sent.push({ data: msg.data, displayId: msg.transient.display_id, update }),
    },
  } as NodeJS.Module;
});
after(() => {
  delete require.cache[fakeWriter];
});

/** A frozen tiny base with a 3-class head, compiled with Adam(0.01). */
function tinyHead(metrics: 'accuracy'[] = []) {
  const base = tinyBase();
  freezeAll(base);
  const m = buildHead(base, [{ type: 'globalAveragePooling' }, { type: 'output', classes: 3 }]);
  compile(m, {
    optimizer: adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics,
  });
  return m;
}

test('in a kernel: one in-place line per phase and a live chart redrawn after every epoch', async () => {
  const m = tinyHead(['accuracy']);
  const charts: number[] = [];
  await trainPhase({
    model: m,
    train: fakeDataset({ n: 12, batchSize: 4 }),
    validation: fakeDataset({ n: 6, batchSize: 3 }),
    epochs: 3,
    name: 'head',
    summary: false,
    onEpochChart: (h) => {
      charts.push(h.epochs.length);
      return { 'text/plain': `chart of ${h.epochs.length} epochs`, 'image/svg+xml': '<svg/>' };
    },
  });
  const ids = [...new Set(sent.map((s) => s.displayId))];
  assert.equal(ids.length, 2, 'the progress line and the chart');
  const line = sent.filter((s) => s.displayId === ids[0]);
  const chart = sent.filter((s) => s.displayId === ids[1]);
  assert.deepEqual(
    line.map((s) => s.update),
    [false, ...Array(line.length - 1).fill(true)],
    'created once, then updated in place',
  );
  assert.deepEqual(charts, [1, 2, 3]);
  assert.equal(chart.length, 3);
  const last = String(line[line.length - 1].data['text/plain']);
  assert.match(
    last,
    /^head · 3 epochs in [\d.]+ s\n {2}last: epoch 3 · loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+ · lr 0\.01/,
  );
  assert.ok(
    line.some((s) =>
      /Epoch 2\/3 · \[[=>.]+\] \d\/3 · ETA \d+:\d\d · loss/.test(String(s.data['text/plain'])),
    ),
    'batch updates with bar and ETA',
  );
  assert.ok(
    line.some((s) =>
      /^head · Epoch 2\/3 · epoch took [\d.]+ s\n/.test(String(s.data['text/plain'])),
    ),
    "each finished epoch shows its own time, labelled as the epoch's",
  );
});

test('one time per phase: the progress line, the [Time] summary and a results table show the number History stores', async () => {
  const { historySeconds } = await import('../../lib/train/history');
  const { resultsTable } = await import('../../lib/charts/table');
  const { formatSeconds } = await import('../../lib/io/duration');
  const m = tinyHead();
  sent.length = 0;
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void printed.push(a.join(' '));
  const h = await trainPhase({
    model: m,
    train: fakeDataset({ n: 8, batchSize: 4 }),
    epochs: 3,
    name: 'head',
    // Time outside the epochs (a callback's end of training) belongs to the phase too.
    callbacks: [{ onTrainEnd: () => new Promise((r) => setTimeout(r, 50)) }],
  }).finally(() => (console.log = log));
  const seconds = h.phases[0].seconds!;
  assert.ok(
    seconds > h.epochs.reduce((s, e) => s + e.seconds, 0) + 0.04,
    'the wall time of the phase',
  );
  assert.equal(historySeconds(h), seconds);
  const shown = formatSeconds(seconds);
  const line = String(sent[sent.length - 1].data['text/plain']);
  assert.ok(line.startsWith(`head · 3 epochs in ${shown}\n`), line);
  assert.ok(
    printed.some((p) => p.startsWith(`[Time] head: ${shown} for 3 epochs (`)),
    printed.join('\n'),
  );
  const table = resultsTable([{ name: 'head', accuracy: 0.5, seconds: historySeconds(h) }], {
    show: false,
  });
  assert.match(table.text, new RegExp(`head .*${shown.replace('.', '\\.')}`));
});

test("in a kernel, Jupyter's interrupt (SIGINT) stops after the current batch; logs and checkpoints stay at the last finished epoch", async () => {
  const fs = await import('node:fs');
  const { CSVLogger, ModelCheckpoint } = await import('../../lib/train/callbacks');
  const { loadCheckpoint } = await import('../../lib/train/checkpoint');
  const { tmpDir } = await import('../helpers');
  const m = tinyHead();
  const dir = tmpDir('sigint-');
  let batchesAfter = 0;
  const { Interrupted } = await import('../../lib/io/interrupt');
  const { lastRun } = await import('../../lib/train/loop');
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void printed.push(a.join(' '));
  const run = trainPhase({
    model: m,
    train: fakeDataset({ n: 16, batchSize: 4 }),
    epochs: 10,
    verbose: 0,
    callbacks: [
      new ModelCheckpoint(path.join(dir, 'last.keras')),
      new CSVLogger(path.join(dir, 'log.csv')),
      {
        onBatchEnd: (b, _l, ctx) => {
          if (ctx.history.epochs.length === 2 && b === 1) process.emit('SIGINT');
          if (ctx.history.epochs.length === 2 && b > 1) batchesAfter++;
        },
      },
    ],
  });
  // As Python's KeyboardInterrupt: the call rejects, so an abandoned cell runs no further line.
  await assert.rejects(run, Interrupted).finally(() => (console.log = log));
  const h = lastRun()!.history;
  assert.equal(lastRun()!.state, 'interrupted');
  assert.equal(h.epochs.length, 2);
  assert.equal(batchesAfter, 0);
  // One line, printed when the interrupt came: what stopped and what was kept.
  assert.equal(printed.length, 1, printed.join('\n'));
  assert.match(
    printed[0],
    /^⏹ Interrupted: training \(trainPhase\) stopped\. Kept: epoch 3\/10 reached, 2 finished epoch\(s\) in nb\.lastRun\(\)\.history; last checkpoint of epoch 2 in .*last\.keras\.$/,
  );
  assert.equal(fs.readFileSync(path.join(dir, 'log.csv'), 'utf8').trim().split('\n').length, 3);
  assert.equal((await loadCheckpoint(path.join(dir, 'last.keras'))).layers.length, m.layers.length);
  assert.equal(process.listenerCount('SIGINT'), 0, 'the handler is removed after the phase');
});
