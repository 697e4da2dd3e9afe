import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plotConfusionMatrix, topConfusions } from '../../lib/charts/confusion';
import { confusionMatrix } from '../../lib/evaluate/metrics';

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
/** Rect items of the heatmap (vega draws each cell as a <path> inside the mark-rect group). */
function rectCells(svg: string): number {
  const group = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg);
  return group ? (group[1].match(/<path/g) ?? []).length : 0;
}

test('topConfusions: off-diagonal cells, largest first, with the share of the true class', () => {
  const cm = [
    [5, 3, 0], // a: 8 images, 3 taken for b
    [1, 2, 3], // b: 6 images, 3 taken for c (same count, larger share: listed first)
    [0, 0, 0], // c: absent from the data
  ];
  const list = topConfusions(cm, ['a', 'b', 'c'], 10);
  assert.deepEqual(
    list.map((c) => [c.trueClass, c.predictedClass, c.count, c.fraction]),
    [
      ['b', 'c', 3, 0.5],
      ['a', 'b', 3, 3 / 8],
      ['b', 'a', 1, 1 / 6],
    ],
  );
  assert.equal(topConfusions(cm, ['a', 'b', 'c'], 1).length, 1);
});

test('plotConfusionMatrix: small matrix with counts in cells and a top-confusions table', async () => {
  const cm = confusionMatrix([0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 1, 1, 2, 2, 2, 0], 3);
  const chart = plotConfusionMatrix(cm, ['stop', 'yield', 'speed 30'], {
    show: false,
    topConfusions: 2,
  });
  const t = texts(chart.svg);
  for (const s of [
    'Confusion matrix',
    'true class',
    'predicted class',
    'stop',
    'yield',
    'speed 30',
  ])
    assert.ok(t.includes(s), `SVG has "${s}"`);
  assert.ok(
    t.some((s) => s.startsWith('3 classes, 8 images, accuracy 62.5%')),
    'subtitle with accuracy',
  );
  assert.equal(rectCells(chart.svg), 6, 'one rect per non-empty cell');
  // Cell counts are written: 2, 1, 1, 1, 2, 1.
  assert.equal(t.filter((s) => s === '2').length, 2);
  assert.equal(chart.confusions.length, 2);
  assert.match(chart.html, /<caption[^>]*>Top 2 confusions<\/caption>/);
  assert.equal((chart.html.match(/<tr>/g) ?? []).length, 3, 'header + 2 rows');
  assert.match(chart.text, /stop -> yield: 1 \(33\.3%\)/);
  assert.throws(
    () => plotConfusionMatrix(cm, ['a', 'b'], { show: false }),
    /must be 2×2 for 2 class names/,
  );
});

test('plotConfusionMatrix: 196 classes stay compact, ordered by name, labels replaced by an axis title', async () => {
  const k = 196;
  const names = Array.from({ length: k }, (_, i) => `Make ${String(k - i).padStart(3, '0')} Sedan`);
  const y: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < k * 3; i++) {
    y.push(i % k);
    p.push(i % 3 === 0 ? (i + 1) % k : i % k);
  }
  const chart = plotConfusionMatrix(confusionMatrix(y, p, k), names, {
    show: false,
    order: 'name',
  });
  const t = texts(chart.svg);
  assert.ok(
    t.includes('true class (196, by name)') && t.includes('predicted class (196, by name)'),
  );
  assert.ok(!t.includes(names[0]), 'no per-class tick labels at this size');
  const width = Number(/<svg[^>]*width="(\d+)"/.exec(chart.svg)![1]);
  assert.ok(width < 900, `compact: ${width}px wide`);
  assert.equal(chart.confusions.length, 10);
  // The name order puts "Make 001" first on the axis domain.
  assert.equal(
    (chart.spec as { layer: { encoding: { x: { scale: { domain: string[] } } } }[] }).layer[0]
      .encoding.x.scale.domain[0],
    'Make 001 Sedan',
  );
});

test('integer class names (GTSRB) are ordered by value, not as strings, in the matrix and the report', async () => {
  const { classificationReport } = await import('../../lib/evaluate/report');
  // Folder order, as Keras lists them: '0', '1', '10', '11', '2', ...
  const names = Array.from({ length: 12 }, (_, i) => String(i)).sort();
  assert.deepEqual(names.slice(0, 4), ['0', '1', '10', '11']);
  const labels = names.map((_, i) => i);
  const cm = confusionMatrix(labels, labels, names.length);
  const numeric = plotConfusionMatrix(cm, names, { show: false });
  const domain = (c: typeof numeric) =>
    (c.spec as { layer: { encoding: { x: { scale: { domain: string[] } } } }[] }).layer[0].encoding
      .x.scale.domain;
  assert.deepEqual(domain(numeric), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
  assert.match(numeric.text, /numeric order/);
  assert.deepEqual(
    domain(plotConfusionMatrix(cm, names, { show: false, order: 'index' })).slice(0, 3),
    ['0', '1', '10'],
  );
  const report = classificationReport(labels, labels, names, { show: false });
  const rows = report.text
    .split('\n')
    .slice(2, 14)
    .map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(rows, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
  assert.deepEqual(
    report.classes.map((c) => c.className),
    names,
    'numbers stay in index order',
  );
  const asGiven = classificationReport(labels, labels, names, { show: false, order: 'index' });
  assert.equal(asGiven.text.split('\n')[4].trim().split(/\s+/)[0], '10');
  // Names that are not all numbers keep their order; asking for numeric order on them is an error.
  assert.deepEqual(
    domain(
      plotConfusionMatrix(
        cm.slice(0, 3).map((r) => r.slice(0, 3)),
        ['b', 'a', 'c'],
        { show: false },
      ),
    ),
    ['b', 'a', 'c'],
  );
  assert.throws(
    () => classificationReport([0], [0], ['stop', 'yield'], { show: false, order: 'numeric' }),
    /"stop" is not/,
  );
});
