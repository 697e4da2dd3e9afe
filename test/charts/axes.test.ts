// Honest charts (issue 23, point 5): accuracy axes span [0, 1] and loss axes start at 0 in every
// chart kind, phase 2 gets a zoomed row, the k of top-k is named, and the "best N" and phase labels
// sit above the plot where no curve runs. Read from the vega-lite specs the charts return.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  compareHistories,
  concatHistories,
  plotHistory,
  plotLearningRate,
  plotPhases,
} from '../../lib/charts/history';
import { lrFind } from '../../lib/charts/lr-find';
import { REPORT_WIDTH } from '../../lib/charts/render';
import { buildHead } from '../../lib/train/heads';
import {
  compile,
  adam,
  topKCategoricalAccuracy,
  type CompileOptions,
} from '../../lib/train/compile';
import { trainPhase } from '../../lib/train/loop';
import { mergeHistories } from '../../lib/train/history';
import { fakeDataset, tinyBase, setDeterministicWeights } from '../train/fake-dataset';
import { freezeAll } from '../train/util';
import { syntheticHistory } from './fixtures';

before(async () => {
  await tf.setBackend('cpu');
});

type Spec = Record<string, unknown>;
interface Panel {
  title: string;
  layer: {
    mark: { type: string } | string;
    encoding: Record<string, { scale?: Spec; value?: number; title?: string; field?: string }>;
    data?: { values: Record<string, unknown>[] };
  }[];
}

/** Every layered panel of a spec (hconcat, vconcat of hconcats, or a single layered view). */
function panels(spec: Spec): Panel[] {
  if (Array.isArray(spec.layer)) return [spec as unknown as Panel];
  const parts = (spec.hconcat ?? spec.vconcat) as Spec[] | undefined;
  return parts ? parts.flatMap(panels) : [];
}

/** The y scale of each panel's curves, by its y-axis title. */
function yScales(spec: Spec): Record<string, Spec | undefined> {
  return Object.fromEntries(
    panels(spec).map((p) => [p.layer[0].encoding.y.title, p.layer[0].encoding.y.scale]),
  );
}

/** A frozen tiny base and a small head, compiled with `metrics`. */
function tinyModel(classes: number, metrics: CompileOptions['metrics']) {
  const base = tinyBase({});
  freezeAll(base);
  const m = buildHead(base, [
    { type: 'globalAveragePooling' },
    { type: 'dense', units: 8, activation: 'relu' },
    { type: 'output', classes },
  ]);
  setDeterministicWeights(m, 3);
  return compile(m, {
    optimizer: adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics,
  });
}

const ACCURACY = { domain: [0, 1], nice: false };
const FROM_ZERO = { zero: true };

test('plotHistory and plotPhases: accuracy and top-k axes [0, 1], loss from 0', () => {
  // Validation accuracy between 0.2 and 0.7, loss between 1 and 5: auto-scaled axes fill the panel.
  const h = syntheticHistory({ epochs: 12 });
  const phases = concatHistories({
    'transfer learning': syntheticHistory({ epochs: 8 }),
    'fine-tuning': syntheticHistory({ epochs: 4, start: 8 }),
  });
  for (const chart of [
    plotHistory(h, { show: false, topK: 3 }),
    plotPhases(phases, { show: false, topK: 3 }),
  ]) {
    assert.deepEqual(yScales(chart.spec as unknown as Spec), {
      accuracy: ACCURACY,
      'top-3 accuracy': ACCURACY,
      loss: FROM_ZERO,
    });
    // The SVG's accuracy axis really reads from 0.0 to 1.0 and the loss axis from 0.
    assert.match(chart.svg, />0\.0</);
    assert.match(chart.svg, />1\.0</);
    assert.ok(!/does not start at 0/.test(chart.text), 'no loss-axis note when it starts at 0');
  }
});

test('lossAxis: "fit" zooms the loss axis and the subtitle says it does not start at 0', () => {
  const h = syntheticHistory({ epochs: 6 });
  const chart = plotHistory(h, { show: false, lossAxis: 'fit' });
  assert.deepEqual(yScales(chart.spec as unknown as Spec).loss, { zero: false });
  assert.equal(
    yScales(chart.spec as unknown as Spec).accuracy?.nice,
    false,
    'accuracy keeps [0, 1]',
  );
  assert.match(chart.text, /The loss axis spans the values and does not start at 0\./);
  const cmp = compareHistories({ a: h, b: h }, { show: false, metric: 'loss', lossAxis: 'fit' });
  assert.match(cmp.text, /does not start at 0/);
});

test('compareHistories: accuracy, validation accuracy and loss axes follow the same rules', () => {
  const runs = {
    'from scratch': syntheticHistory({ epochs: 10, level: 0.3 }),
    'fine-tuned': syntheticHistory({ epochs: 6, level: 0.8 }),
  };
  const chart = compareHistories(runs, {
    show: false,
    metric: ['accuracy', 'val_accuracy', 'top_k_categorical_accuracy', 'loss', 'val_loss'],
    topK: 3,
  });
  const scales = panels(chart.spec as unknown as Spec).map((p) => p.layer[0].encoding.y.scale);
  assert.deepEqual(scales, [ACCURACY, ACCURACY, ACCURACY, FROM_ZERO, FROM_ZERO]);
});

test('plotLearningRate keeps its log axis; lrFind draws the loss from 0', async () => {
  const lr = plotLearningRate(syntheticHistory({ epochs: 9, halveEvery: 3 }), { show: false });
  assert.deepEqual(panels(lr.spec as unknown as Spec)[0].layer[0].encoding.y.scale, {
    type: 'log',
  });

  const m = tinyModel(3, ['accuracy']);
  const r = await lrFind(m, fakeDataset({ n: 12, batchSize: 4 }), {
    iterations: 12,
    show: false,
  });
  const y = panels(r.chart.spec as unknown as Spec)[0].layer[0].encoding.y;
  assert.equal(y.title, 'loss (smoothed)');
  assert.deepEqual(y.scale, FROM_ZERO);
});

test('zoomLastPhase: a second row with only the last phase, its own x range, same y rules', () => {
  const merged = concatHistories({
    'transfer learning': syntheticHistory({ epochs: 20, name: 'transfer learning' }),
    'fine-tuning': syntheticHistory({ epochs: 5, start: 20, lr: 1e-5, name: 'fine-tuning' }),
  });
  const chart = plotPhases(merged, { show: false, zoomLastPhase: true, topK: 3 });
  const spec = chart.spec as unknown as Spec;
  const rows = spec.vconcat as { hconcat: Panel[] }[];
  assert.equal(rows.length, 2, 'the full view, then the zoomed row');
  const [full, zoom] = rows.map((r) => r.hconcat);
  assert.equal(full.length, 3);
  assert.equal(zoom.length, 3);
  for (const [i, p] of zoom.entries()) {
    const curve = p.layer[0];
    assert.deepEqual(curve.encoding.x.scale, { domain: [21, 25], nice: false });
    assert.equal(curve.encoding.x.title, 'epoch (fine-tuning only)');
    const epochs = curve.data!.values.map((r) => r.epoch as number);
    assert.deepEqual(
      [...new Set(epochs)].sort((a, b) => a - b),
      [21, 22, 23, 24, 25],
    );
    assert.deepEqual(curve.encoding.y.scale, full[i].layer[0].encoding.y.scale, 'same y rule');
    assert.ok(
      !p.layer.some((l) => JSON.stringify(l).includes('"x":20.5')),
      'no phase line outside the zoomed range',
    );
  }
  assert.match(chart.text, /Lower row: fine-tuning only \(epochs 21–25\)/);
  assert.match(chart.text, /accuracy 0–1, loss from 0/);
  const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(chart.svg)![1]);
  assert.ok(width <= REPORT_WIDTH, `the two rows fit the report width (${width} px)`);
  // Without the option the spec stays one row.
  assert.ok(Array.isArray((plotPhases(merged, { show: false }).spec as unknown as Spec).hconcat));
  assert.throws(
    () => plotHistory(syntheticHistory({ epochs: 4 }), { show: false, zoomLastPhase: true }),
    /zoomLastPhase needs a history of two or more phases/,
  );
});

test('best and phase labels sit in a band above the plot, not over the curves', () => {
  const merged = concatHistories({
    'transfer learning': syntheticHistory({ epochs: 20, name: 'transfer learning' }),
    'fine-tuning': syntheticHistory({ epochs: 5, start: 20, name: 'fine-tuning' }),
  });
  merged.epochs[19].metrics.val_loss = 0.1; // best at 20, beside the phase line at 20.5
  for (const spec of [
    plotPhases(merged, { show: false, zoomLastPhase: true }).spec,
    plotHistory(syntheticHistory({ epochs: 12 }), { show: false }).spec,
  ]) {
    const texts = panels(spec as unknown as Spec).flatMap((p) =>
      p.layer.filter((l) => (l.mark as { type: string }).type === 'text'),
    );
    assert.ok(texts.length >= 3, 'labels exist');
    for (const t of texts) {
      assert.ok(t.encoding.y.value! < 0, `label above the plot (y ${t.encoding.y.value})`);
    }
    // Best and phase labels on different rows, so they never overlap each other.
    const rowsY = new Set(texts.map((t) => t.encoding.y.value));
    const names = texts.map((t) => String(t.data!.values[0].name));
    if (names.some((n) => n === 'fine-tuning')) assert.equal(rowsY.size, 2);
  }
});

test('k named: trainPhase records the k of top-k, and every chart says "top-3 accuracy"', async () => {
  const m = tinyModel(4, ['accuracy', topKCategoricalAccuracy(3)]);
  const run = (name: string, from: number) =>
    trainPhase({
      model: m,
      train: fakeDataset({ n: 16, classes: 4 }),
      validation: fakeDataset({ n: 8, classes: 4, seed: 5 }),
      initialEpoch: from,
      epochs: from + 2,
      name,
      verbose: 0,
    });
  const h1 = await run('transfer learning', 0);
  assert.deepEqual(h1.metricK, { top_k_categorical_accuracy: 3 });
  const merged = mergeHistories(h1, await run('fine-tuning', 2));
  assert.deepEqual(merged.metricK, { top_k_categorical_accuracy: 3 }, 'kept by mergeHistories');
  for (const chart of [
    plotHistory(h1, { show: false }),
    plotPhases(merged, { show: false, zoomLastPhase: true }),
    compareHistories({ a: h1, b: merged }, { show: false, metric: 'top_k_categorical_accuracy' }),
  ]) {
    assert.match(chart.svg, /Top-3 accuracy|top-3 accuracy/);
    assert.ok(!/top-k/i.test(chart.svg + chart.text), 'no "top-k" left in the chart');
  }
});
