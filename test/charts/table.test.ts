import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PUBLISHED_RESULTS, notComparableBecause, resultsTable } from '../../lib/charts/table';

const ROWS = [
  { name: 'baseline', accuracy: 0.0051, topKAccuracy: 0.0153, loss: 5.31, topK: 3 },
  {
    name: 'transfer learning',
    accuracy: 0.4812,
    topKAccuracy: 0.7,
    loss: 3.1,
    epochs: 30,
    bestEpoch: 27,
    seconds: 1834,
  },
  {
    name: 'fine-tuning',
    accuracy: 0.493,
    topKAccuracy: 0.712,
    loss: 3.0,
    epochs: 10,
    seconds: 95.5,
    note: 'a | b',
  },
];

test('resultsTable: columns present only when some row has them; HTML, markdown and text agree', () => {
  const t = resultsTable(ROWS, { show: false });
  const header = t.text.split('\n')[0];
  assert.deepEqual(header.split(/\s{2,}/), [
    'phase / run',
    'accuracy',
    'top-3 accuracy',
    'loss',
    'epochs',
    'time',
    'note',
  ]);
  assert.match(
    t.text,
    /transfer learning\s+48\.12%\s+70\.00%\s+3\.1000\s+30 \(best 27\)\s+30 min 34 s/,
  );
  assert.match(t.text, /fine-tuning\s+49\.30%\s+71\.20%\s+3\.0000\s+10\s+1 min 36 s\s+a \| b/);
  assert.equal((t.html.match(/<tr>/g) ?? []).length, 4);
  assert.match(t.html, /<td style="text-align:right">0\.51%<\/td>/);
  const md = t.markdown.split('\n');
  assert.equal(md[1], '| :--- | ---: | ---: | ---: | ---: | ---: | :--- |');
  assert.match(md[4], /\| a \\\| b \|$/, 'pipes escaped in markdown');
  // Without loss/time data those columns disappear.
  const small = resultsTable([{ name: 'run A', accuracy: 0.9 }], { show: false });
  assert.equal(
    small.text
      .split('\n')[0]
      .trim()
      .split(/\s{2,}/).length,
    2,
  );
});

const SETUP_FULL = {
  profile: 'full',
  imageSize: [299, 299],
  weights: { label: 'ImageNet', weights: 'imagenet' },
  data: { label: 'Stanford Cars (real, /data/cars)', source: 'real' as const },
};

test("resultsTable: with the walkthrough's setup, published numbers beside ours and Δ in percentage points", () => {
  const p = PUBLISHED_RESULTS.inceptionV3Cars;
  const t = resultsTable(ROWS, {
    published: { ...p, rows: { ...p.rows, typo: { accuracy: 0.5 } } },
    setup: SETUP_FULL,
    show: false,
  });
  assert.equal(t.comparable, true);
  assert.equal(
    t.text.split('\n')[0],
    'This run: profile full, 299×299, ImageNet, Stanford Cars (real, /data/cars)',
  );
  const header = t.text.split('\n')[1].split(/\s{2,}/);
  assert.deepEqual(header, [
    'phase / run',
    'accuracy',
    'published',
    'Δ pp',
    'top-3 accuracy',
    'published',
    'Δ pp',
    'loss',
    'published',
    'epochs',
    'time',
    'note',
  ]);
  assert.match(
    t.text,
    /transfer learning\s+48\.12%\s+56\.40%\s+-8\.28\s+70\.00%\s+76\.50%\s+-6\.50\s/,
  );
  assert.match(t.text, /baseline\s+0\.51%\s+0\.37%\s+\+0\.14\s/);
  assert.match(
    t.text,
    /fine-tuning .* 3\.0000\s+2\.8000\s+10\s+1 min 36 s/,
    'published loss beside ours, time without a ratio',
  );
  assert.doesNotMatch(t.text, /\d\.\d\d×/, 'no time ratio');
  assert.match(t.text, /No row named "typo" to compare with\./);
  assert.match(t.html, /Published: InceptionV3 fine-tuning walkthrough/);
  assert.match(t.html, /<caption[^>]*>This run: profile full/);
  assert.throws(() => resultsTable([], { show: false }), /no rows/);
});

test('resultsTable: another setup shows the published numbers without Δ and says in one line why', () => {
  const p = PUBLISHED_RESULTS.resnet50Cars;
  const setup = {
    profile: 'quick',
    imageSize: [64, 64],
    weights: { label: 'random initialisation', weights: null },
    data: {
      label: 'synthetic images (offline stand-in for Stanford Cars)',
      source: 'synthetic' as const,
    },
  };
  const t = resultsTable(ROWS, { published: p, setup, show: false });
  assert.equal(t.comparable, false);
  assert.ok(
    !t.text.includes('Δ') &&
      !t.html.includes('Δ') &&
      !/[+-]\d+\.\d\d\b(?!%)/.test(t.text.split('\n').slice(3, 6).join('\n')),
    'no difference anywhere',
  );
  assert.deepEqual(t.text.split('\n')[1].split(/\s{2,}/), [
    'phase / run',
    'accuracy',
    'published',
    'top-3 accuracy',
    'loss',
    'epochs',
    'time',
    'note',
  ]);
  const why = t.text.split('\n').filter((l) => l.includes('Not comparable'));
  assert.equal(why.length, 1);
  assert.match(
    why[0],
    /profile quick \(the walkthrough's settings are profile full\); random initialisation instead of ImageNet weights; synthetic images \(offline stand-in for Stanford Cars\) instead of the real Stanford Cars\./,
  );
  // One mismatch is enough; labels work as plain strings too.
  const almost = resultsTable(ROWS, {
    published: p,
    setup: { ...SETUP_FULL, data: 'synthetic signs (offline stand-in for GTSRB)' },
    show: false,
  });
  assert.equal(almost.comparable, false);
  assert.match(almost.text, /Not comparable, so no difference is shown: synthetic signs/);
  // The old form (rows + source) still works, and without a setup nothing is compared.
  const old = resultsTable(ROWS, { published: p.rows, source: p.source, show: false });
  assert.equal(old.comparable, false);
  assert.match(old.text, /setup is not given/);
  assert.deepEqual(notComparableBecause(SETUP_FULL, 'Stanford Cars'), []);
});
