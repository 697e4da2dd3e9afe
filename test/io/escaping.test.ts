// Hostile class and folder names through every output: each format escapes them its own way
// (HTML and SVG entities, Markdown, plain text for terminals, the shell command exportForWeb prints).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  escapeControls,
  escapeMarkdown,
  markdownCode,
  shellQuote,
  toPlainText,
} from '../../lib/io/text';
import { resultsTable } from '../../lib/charts/table';
import { plotConfusionMatrix } from '../../lib/charts/confusion';
import { classificationReport } from '../../lib/evaluate/report';
import { showBatch, predictGrid } from '../../lib/charts/grid';
import { predictImage } from '../../lib/charts/predict-image';
import { imageDatasetFromDirectory } from '../../lib/data/directory';
import { exportForWeb } from '../../lib/export/web';
import { showText } from '../../lib/display';
import { tmpDir } from '../helpers';
import { writeSolid } from '../data/fixtures';

/** Names a file system allows and a careless output would obey. */
export const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  'a|b *bold* _u_ [link](javascript:alert(1)) `code` # h',
  'red \u001b[31mALERT\u001b[0m',
  'abc\u202Egnp.exe',
  'two\nlines',
  'it\'s "quoted" & $HOME; rm -rf ~',
];

before(async () => {
  await tf.setBackend('cpu');
});

const ESC = /[\u001b\u202e]/;

test('the escapers: Markdown, plain text, shell, Markdown code', () => {
  assert.equal(
    escapeMarkdown('<img src=x onerror=alert(1)>'),
    '&lt;img src=x onerror=alert\\(1\\)&gt;',
  );
  assert.equal(escapeMarkdown('a|b\nc'), 'a\\|b c');
  assert.equal(
    escapeMarkdown('*x* _y_ [z] `w` ~v~ # !'),
    '\\*x\\* \\_y\\_ \\[z\\] \\`w\\` \\~v\\~ \\# \\!',
  );
  assert.equal(toPlainText('a\u001b[31mb\nc\u202E'), 'a\\u{1b}[31mb\\nc\\u{202e}');
  assert.equal(escapeControls('line 1\nline 2\u0007\t.'), 'line 1\nline 2\\u{7}\t.');
  assert.equal(shellQuote('/tmp/web'), '/tmp/web');
  assert.equal(shellQuote('/tmp/my web'), "'/tmp/my web'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(markdownCode('a`b'), '``a`b``');
  assert.equal(markdownCode('`x'), '`` `x ``');
});

test('resultsTable: HTML, Markdown and text each escape a hostile row name', () => {
  const t = resultsTable(
    HOSTILE.map((name, i) => ({ name, accuracy: i / 10 })),
    { show: false, title: HOSTILE[0] },
  );
  assert.ok(!t.html.includes('<img'), t.html);
  assert.ok(t.html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  // Markdown passes raw HTML through: before the fix only '|' was escaped.
  assert.ok(!t.markdown.includes('<img'), t.markdown);
  assert.ok(t.markdown.includes('&lt;img src=x onerror=alert\\(1\\)&gt;'));
  const rows = t.markdown.split('\n').filter((l) => l.startsWith('| '));
  assert.equal(rows.length, 2 + HOSTILE.length, 'one line per row: the newline did not split one');
  for (const r of rows)
    assert.equal(r.split(/(?<!\\)\|/).length - 2, rows[0].split('|').length - 2);
  assert.ok(!t.markdown.includes('[link](javascript'), 'no live link');
  assert.doesNotMatch(t.text, ESC);
  assert.ok(t.text.includes('two\\nlines'));
});

test('confusion matrix (SVG, HTML, text) and classification report (HTML, text) escape class names', () => {
  const k = HOSTILE.length;
  const cm = HOSTILE.map((_, i) => HOSTILE.map((__, j) => (i === j ? 3 : (i + j) % 2)));
  const chart = plotConfusionMatrix(cm, HOSTILE, { show: false });
  assert.ok(!chart.svg.includes('<img'), 'SVG text is escaped');
  assert.ok(!chart.html.includes('<img'));
  assert.doesNotMatch(chart.text, ESC);
  const yTrue = Array.from({ length: 3 * k }, (_, i) => i % k);
  const report = classificationReport(
    yTrue,
    yTrue.map((y) => (y + 1) % k),
    HOSTILE,
    { show: false },
  );
  assert.ok(!report.html.includes('<img'));
});

test('image grids, predictImage and the dataset summary take a folder named like an attack', async () => {
  const dir = tmpDir('hostile-');
  const names = HOSTILE.filter((n) => !n.includes('/'));
  for (const [i, n] of names.entries())
    await writeSolid(path.join(dir, n, 'x.png'), [40 * i, 100, 200], 12, 12);
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  let ds;
  try {
    ds = imageDatasetFromDirectory(dir, { imageSize: [8, 8], shuffle: false });
  } finally {
    console.log = log;
  }
  assert.deepEqual(new Set(ds.classNames), new Set(names));
  const summary = out.find((l) => l.startsWith('Summary:'))!;
  assert.doesNotMatch(summary, ESC);
  assert.ok(!summary.includes('\n'), 'one line');
  // The titles go into an SVG overlay: an unescaped '<' would make sharp fail to parse it.
  const grid = await showBatch(ds, { show: false, rows: 1, cols: names.length });
  assert.ok(grid.png.length > 0);
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 3] }),
      tf.layers.dense({ units: names.length, activation: 'softmax' }),
    ],
  });
  const pg = await predictGrid(model, ds, { show: false, rows: 1, cols: names.length });
  assert.ok(pg.png.length > 0);
  const p = await predictImage(model, ds.files[0], {
    classNames: ds.classNames,
    trueClass: ds.classNames[ds.labels[0]],
    show: false,
    preprocess: 'none',
  });
  assert.ok(!p.html.includes('<img src=x'), 'class names and the path are escaped in the HTML');
  model.dispose();
});

test('text/plain outputs show control characters instead of obeying them', () => {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof write;
  try {
    showText(`class ${HOSTILE[2]}\nnext line`);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(chunks.join(''), 'class red \\u{1b}[31mALERT\\u{1b}[0m\nnext line\n');
});

test('exportForWeb: hostile class names stay data in the page; the printed serve command quotes the folder', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3 }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: HOSTILE.length, activation: 'softmax' }),
    ],
  });
  const dir = path.join(tmpDir('web-export-'), "my models/it's here");
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  try {
    await exportForWeb(model, dir, { classNames: HOSTILE, preprocessing: 'tf' });
  } finally {
    console.log = log;
  }
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  assert.ok(!html.includes('<img src=x'), 'the class list is JSON with < escaped inside <script>');
  const cmd = /Serve it with: (python3 -m http\.server -d .*) 8000, then/.exec(out.join('\n'))![1];
  // The shell reads the folder back as one argument, exactly.
  const args = execFileSync(
    'bash',
    ['-c', `printf '%s\\n' ${cmd.replace('python3 -m http.server -d ', '')}`],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(args, `${dir}\n`);
  await assert.rejects(
    exportForWeb(model, tmpDir('web-dup-'), {
      classNames: ['a', 'b', 'a', 'c', 'd', 'e'],
      preprocessing: 'tf',
    }),
    /exportForWeb: the class name "a" appears twice/,
  );
  await assert.rejects(
    exportForWeb(model, tmpDir('web-empty-'), {
      classNames: ['a', 'b', '', 'c', 'd', 'e'],
      preprocessing: 'tf',
    }),
    /class 2 has an empty name/,
  );
  model.dispose();
});
