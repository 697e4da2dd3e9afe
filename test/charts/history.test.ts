import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareHistories,
  historyChartBundle,
  plotHistory,
  plotLearningRate,
  plotPhases,
  bestEpochIndex,
  concatHistories,
} from '../../lib/charts/history';
import { REPORT_WIDTH } from '../../lib/charts/render';
import { syntheticHistory } from './fixtures';

/** Text content of every <text> element of an SVG. */
function svgTexts(svg: string): string[] {
  const unescape = (t: string) => t.replace(/&amp;/g, '&').replace(/&#39;|&apos;/g, "'");
  // A multi-line text is one <text> of <tspan> lines.
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].flatMap((m) =>
    (m[1].includes('<tspan')
      ? [...m[1].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1])
      : [m[1]]
    ).map(unescape),
  );
}
const count = (svg: string, cls: string) =>
  (svg.match(new RegExp(`class="mark-${cls}[ "]`, 'g')) ?? []).length;

test('plotHistory: one panel per metric, training/validation lines, best epoch marked, notes under the title', async () => {
  const h = syntheticHistory({ epochs: 12, notes: ['random initialisation'] });
  // Make epoch 5 (index 4) the unique best val_loss.
  h.epochs[4].metrics.val_loss = 0.01;
  assert.deepEqual(bestEpochIndex(h), { index: 4, monitor: 'val_loss' });
  assert.equal(
    bestEpochIndex(h, 'val_accuracy').index,
    h.epochs.reduce(
      (b, e, i, a) => (e.metrics.val_accuracy > a[b].metrics.val_accuracy ? i : b),
      0,
    ),
  );
  const chart = plotHistory(h, { show: false, topK: 3 });
  const texts = svgTexts(chart.svg);
  assert.ok(chart.svg.startsWith('<svg'), 'an SVG document');
  for (const t of [
    'Training history',
    'random initialisation',
    'Accuracy',
    'Top-3 accuracy',
    'Loss',
    'training',
    'validation',
    'best 5',
    'epoch',
  ]) {
    assert.ok(
      texts.includes(t),
      `SVG has the text "${t}" (texts: ${texts.slice(0, 30).join(' | ')})`,
    );
  }
  assert.ok(
    texts.some((t) => t.startsWith('12 epochs; best epoch 5 (min val_loss)')),
    'subtitle names the best epoch',
  );
  assert.equal(count(chart.svg, 'line'), 6, 'three panels × (training, validation) lines');
  assert.ok(count(chart.svg, 'rule') >= 3, 'best-epoch rules');
  // Only the chosen metric when asked.
  const lossOnly = plotHistory(h, { show: false, metrics: ['loss'] });
  assert.ok(
    svgTexts(lossOnly.svg).includes('Loss') && !svgTexts(lossOnly.svg).includes('Accuracy'),
  );
  assert.throws(
    () => plotHistory(h, { show: false, metrics: ['auc'] }),
    /metric "auc" is not in the history/,
  );
  assert.throws(() => plotHistory({ epochs: [], phases: [] }, { show: false }), /no epochs/);
});

test('plotPhases: merged history with a dotted red line where fine-tuning starts', async () => {
  const tl = syntheticHistory({ epochs: 8, name: 'transfer learning' });
  const ft = syntheticHistory({ epochs: 4, start: 8, name: 'fine-tuning', lr: 1e-5 });
  const merged = concatHistories([tl, ft]);
  assert.equal(merged.epochs.length, 12);
  assert.deepEqual(merged.phases, [
    { name: 'transfer learning', startEpoch: 0 },
    { name: 'fine-tuning', startEpoch: 8 },
  ]);
  assert.deepEqual(
    merged.epochs.map((e) => e.epoch),
    [...Array(12).keys()],
  );
  for (const input of [merged, { tl, ft }]) {
    const chart = plotPhases(input, { show: false });
    const texts = svgTexts(chart.svg);
    assert.ok(texts.includes('fine-tuning'), 'phase label drawn');
    assert.match(chart.text, /fine-tuning starts after epoch 8/);
    // The phase line is a red dotted rule at x = 8.5 in the spec.
    const json = JSON.stringify(chart.spec);
    assert.match(json, /"values":\[\{"x":8\.5,"name":"fine-tuning"\}\]/);
    assert.match(json, /"color":"#d62728","strokeDash":\[2,3\]/);
    assert.match(chart.svg, /stroke="#d62728"/);
  }
  const bundle = historyChartBundle(merged);
  assert.deepEqual(Object.keys(bundle).sort(), [
    'application/vnd.vegalite.v5+json',
    'image/svg+xml',
    'text/plain',
  ]);
  assert.ok((bundle['image/svg+xml'] as string).length > 1000);
});

test("compareHistories: one colour per run, dashed validation lines, each run's notes under the title", async () => {
  const chart = compareHistories(
    {
      'from scratch': syntheticHistory({
        epochs: 10,
        level: 0.3,
        topK: false,
        notes: ['random initialisation'],
      }),
      'fine-tuned': syntheticHistory({ epochs: 6, level: 0.8, topK: false }),
    },
    { show: false },
  );
  const texts = svgTexts(chart.svg);
  for (const t of [
    'from scratch vs fine-tuned',
    'from scratch: random initialisation',
    'from scratch',
    'fine-tuned',
    'training',
    'validation',
    'Accuracy',
  ]) {
    assert.ok(texts.includes(t), `SVG has "${t}"`);
  }
  assert.match(chart.svg, /stroke-dasharray="6,3"/, 'validation lines are dashed');
  assert.match(chart.text, /last val_accuracy: from scratch 0\.\d{4}, fine-tuned 0\.\d{4}/);
  assert.throws(
    () => compareHistories({ a: syntheticHistory({ epochs: 2 }) }, { metric: 'auc', show: false }),
    /no run has metric "auc"/,
  );
});

test('compareHistories: notes every run shares go under the title, legend labels stay whole', () => {
  const notes = ['random initialisation', 'synthetic images (offline stand-in for Stanford Cars)'];
  const chart = compareHistories(
    {
      'dropout 0.6': syntheticHistory({ epochs: 8, notes }),
      'dropout 0.3': syntheticHistory({ epochs: 6, notes }),
    },
    { show: false, metric: 'val_accuracy' },
  );
  const texts = svgTexts(chart.svg);
  assert.ok(
    texts.includes('dropout 0.6') && texts.includes('dropout 0.3'),
    'legend labels are the run names, not cut',
  );
  assert.ok(texts.includes(notes.join('; ')), 'shared notes in the subtitle');
  assert.ok(!texts.some((t) => t.includes('…')), 'no truncated text');
});

/** Width of an SVG and the smallest font size in it. */
function svgMetrics(svg: string): { width: number; minFont: number } {
  const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)![1]);
  const sizes = [...svg.matchAll(/font-size(?:="|:\s*)([\d.]+)px/g)].map((m) => Number(m[1]));
  return { width, minFont: Math.min(...sizes) };
}

test('charts fit the report width, so no font is drawn below 11 px there', () => {
  const notes = ['random initialisation', 'synthetic images (offline stand-in for Stanford Cars)'];
  const tl = syntheticHistory({ epochs: 20, name: 'transfer learning', notes });
  const ft = syntheticHistory({ epochs: 5, start: 20, name: 'fine-tuning', lr: 1e-5 });
  const charts = {
    history: plotHistory(syntheticHistory({ epochs: 30, notes }), {
      show: false,
      title: 'ResNet50 transfer learning',
      topK: 3,
    }),
    phases: plotPhases(
      { 'transfer learning': tl, 'fine-tuning': ft },
      {
        show: false,
        title: 'Transfer learning, then fine-tuning (dotted line: fine-tuning starts)',
        topK: 3,
      },
    ),
    compare: compareHistories(
      {
        'from scratch': syntheticHistory({ epochs: 20, notes: ['random initialisation'] }),
        'fine-tuned': syntheticHistory({ epochs: 20, notes }),
      },
      { show: false, metric: 'val_accuracy' },
    ),
    learningRate: plotLearningRate(syntheticHistory({ epochs: 9, halveEvery: 3, notes }), {
      show: false,
    }),
  };
  for (const [name, chart] of Object.entries(charts)) {
    const { width, minFont } = svgMetrics(chart.svg);
    assert.ok(
      width <= REPORT_WIDTH,
      `${name}: ${width} px wide (report column ${REPORT_WIDTH} px)`,
    );
    assert.ok(minFont >= 11, `${name}: smallest font ${minFont} px`);
    assert.ok(!svgTexts(chart.svg).some((t) => t.includes('…')), `${name}: no truncated text`);
  }
});

test('plotLearningRate: steps on a log axis, changes listed', async () => {
  const h = syntheticHistory({ epochs: 9, lr: 1e-3, halveEvery: 4 });
  const chart = plotLearningRate(h, { show: false });
  assert.match(chart.text, /Learning rate: 1\.0e-3; epoch 5: 5\.0e-4, epoch 9: 2\.5e-4/);
  assert.ok(svgTexts(chart.svg).includes('Learning rate'));
  assert.equal(count(chart.svg, 'line'), 1);
  assert.match(JSON.stringify(chart.spec), /"type":"log"/);
});
