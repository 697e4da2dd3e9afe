import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PUBLISHED_RESULTS, resultsTable } from '../../lib/charts';

const ROWS = [
  { name: 'baseline', accuracy: 0.0051, topKAccuracy: 0.0153, loss: 5.31, topK: 3 },
  { name: 'transfer learning', accuracy: 0.4812, topKAccuracy: 0.7, loss: 3.1, epochs: 30, bestEpoch: 27, seconds: 1834 },
  { name: 'fine-tuning', accuracy: 0.493, topKAccuracy: 0.712, loss: 3.0, epochs: 10, seconds: 95.5, note: 'a | b' },
];

test('resultsTable: columns present only when some row has them; HTML, markdown and text agree', () => {
  const t = resultsTable(ROWS, { show: false });
  const header = t.text.split('\n')[0];
  assert.deepEqual(header.split(/\s{2,}/), ['phase / run', 'accuracy', 'top-3 accuracy', 'loss', 'epochs', 'time', 'note']);
  assert.match(t.text, /transfer learning\s+48\.12%\s+70\.00%\s+3\.1000\s+30 \(best 27\)\s+30 min 34 s/);
  assert.match(t.text, /fine-tuning\s+49\.30%\s+71\.20%\s+3\.0000\s+10\s+1 min 36 s\s+a \| b/);
  assert.equal((t.html.match(/<tr>/g) ?? []).length, 4);
  assert.match(t.html, /<td style="text-align:right">0\.51%<\/td>/);
  const md = t.markdown.split('\n');
  assert.equal(md[1], '| :--- | ---: | ---: | ---: | ---: | ---: | :--- |');
  assert.match(md[4], /\| a \\\| b \|$/, 'pipes escaped in markdown');
  // Without loss/time data those columns disappear.
  const small = resultsTable([{ name: 'run A', accuracy: 0.9 }], { show: false });
  assert.equal(small.text.split('\n')[0].trim().split(/\s{2,}/).length, 2);
});

test('resultsTable: published numbers side by side with differences in percentage points', () => {
  const p = PUBLISHED_RESULTS.inceptionV3Cars;
  const t = resultsTable(ROWS, { published: { ...p.rows, typo: { accuracy: 0.5 } }, source: p.source, show: false });
  const header = t.text.split('\n')[0].split(/\s{2,}/);
  assert.deepEqual(header.slice(0, 7), ['phase / run', 'accuracy', 'published', 'Δ', 'top-3 accuracy', 'published', 'Δ']);
  assert.match(t.text, /transfer learning\s+48\.12%\s+56\.40%\s+-8\.28 pp\s+70\.00%\s+76\.50%\s+-6\.50 pp/);
  assert.match(t.text, /baseline\s+0\.51%\s+0\.37%\s+\+0\.14 pp/);
  assert.match(t.text, /fine-tuning .* 3\.0000\s+2\.8000\s+\+0\.2000/);
  assert.match(t.text, /No row named "typo" to compare with\./);
  assert.match(t.html, /Published: InceptionV3 fine-tuning walkthrough/);
  assert.throws(() => resultsTable([], { show: false }), /no rows/);
});
