// The report checks on small hand-made notebooks and HTML (fast), and the HTML/PDF export of an
// executed notebook without a kernel (needs nbconvert, Chromium and pdftotext; skips without them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyterPython } from '../../scripts/platform/jupyter';
import { exportNotebook, findChromium, isExecuted } from '../../scripts/platform/execute';
import { exportSource } from '../../scripts/report';
import { classificationReport } from '../../lib/evaluate/report';
import { resultsTable } from '../../lib/charts/table';
import { tmpDir } from '../helpers';
import {
  externalReferences,
  longLines,
  missingReportRows,
  pdfText,
  placeholdersAfterRichOutputs,
  stderrBanners,
  type Notebook,
  type Output,
} from './report-checks';

const svg: Output = {
  output_type: 'display_data',
  data: { 'image/svg+xml': '<svg/>', 'text/plain': 'chart' },
};
const stdout = (text: string): Output => ({ output_type: 'stream', name: 'stdout', text });
const code = (source: string, outputs: Output[] = []) => ({ cell_type: 'code', source, outputs });
const nb = (...cells: ReturnType<typeof code>[]): Notebook => ({
  cells: [{ cell_type: 'markdown', source: '# title', outputs: [] }, ...cells],
});

test('placeholdersAfterRichOutputs: a description or an empty line printed under a chart', () => {
  const bad = nb(
    code('nb.plotHistory(h)', [svg, stdout('[chart: .spec (vega-lite), .svg (51.3 kB), .text]\n')]),
    code('nb.resultsTable(rows)', [svg, stdout('\n')]),
  );
  assert.deepEqual(placeholdersAfterRichOutputs(bad), [
    'code cell 1: "[chart: .spec (vega-lite), .svg (51.3 kB), .text]" printed after a rich output',
    'code cell 2: an empty stdout output after a rich output',
  ]);
  const good = nb(
    code('nb.plotHistory(h)', [svg]),
    code('console.log("[a: .b]")', [stdout('[a: .b]\n')]), // printed text without a rich output before it is the user's
    code('show(); console.log("3 epochs")', [svg, stdout('3 epochs\n')]),
  );
  assert.deepEqual(placeholdersAfterRichOutputs(good), []);
});

test("stderrBanners: tfjs' Node.js banner on stderr, not other stderr text", () => {
  const banner =
    '\n============================\nHi, looks like you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node backend\n';
  const n = nb(
    code('a', [{ output_type: 'stream', name: 'stderr', text: banner }]),
    code('b', [{ output_type: 'stream', name: 'stderr', text: 'a real warning' }]),
  );
  assert.deepEqual(stderrBanners(n), [
    'code cell 1: tfjs\' "Hi, looks like you are running TensorFlow.js in Node.js" banner on stderr',
  ]);
});

test('longLines: code lines over 100 columns, by code cell and line', () => {
  const n = nb(code(`const a = 1;\n${'x'.repeat(100)}`), code(`ok();\n${'é'.repeat(101)}`));
  const found = longLines(n);
  assert.equal(found.length, 1);
  assert.match(found[0], /^code cell 2, line 2: 101 columns/);
  assert.equal(longLines(n, 99).length, 2);
});

test('externalReferences: scripts, styles, images and fonts from outside the file; data URIs and web links pass', () => {
  const html = `<html><head>
    <script src="file:///usr/share/javascript/requirejs/require.min.js"></script>
    <script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"></script>
    <link rel="stylesheet" href="/usr/share/jupyter/style.css">
    <style>@font-face { src: url('fonts/x.woff') } .i { background: url("data:image/svg+xml,%3csvg%3e") }</style>
    </head><body><img src="data:image/png;base64,AAAA"><img src='chart.png'>
    <a href="#section">here</a> <a href="https://keras.io/">Keras</a> <a href="file:///home/me/report.pdf">pdf</a></body></html>`;
  assert.deepEqual(externalReferences(html), [
    '<script src="file:///usr/share/javascript/requirejs/require.min.js">',
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js">',
    '<link href="/usr/share/jupyter/style.css">',
    '<img src="chart.png">',
    '<a href="file:///home/me/report.pdf">',
    'url(fonts/x.woff)',
  ]);
  assert.deepEqual(
    externalReferences('<img src="data:image/jpeg;base64,AA"><a href="#x">x</a>'),
    [],
  );
});

/** 43 GTSRB-like classes named as the folders sort ('0', '1', '10', …), every one with a row. */
function gtsrbReport() {
  const names = Array.from({ length: 43 }, (_, i) => String(i)).sort();
  const yTrue = names.flatMap((_, c) => [c, c, c]);
  const yPred = yTrue.map((c, i) => (i % 7 === 0 ? (c + 1) % 43 : c));
  return { names, report: classificationReport(yTrue, yPred, names, { show: false }) };
}

test('missingReportRows: every class row and the averages of a printed report', () => {
  const { names, report } = gtsrbReport();
  assert.deepEqual(missingReportRows(report.text, names), []);
  const cut = report.text.split('\n').slice(0, 17).join('\n'); // what the old print showed: 15 rows, no averages
  const missing = missingReportRows(cut, names);
  assert.ok(
    missing.includes('row "42"') &&
      missing.includes('row "macro avg"') &&
      missing.includes('row "weighted avg"'),
    missing.join(', '),
  );
});

// An executed notebook made by hand: what the report exporter and the PDF printer receive.
function executedNotebook(dir: string): string {
  const { report } = gtsrbReport();
  const table = resultsTable([{ name: 'fine-tuning (validation)', accuracy: 0.5, loss: 2 }], {
    published: {
      source: 'walkthrough',
      rows: { 'fine-tuning (validation)': { accuracy: 0.969, loss: 0.2 } },
    },
    setup: {
      profile: 'quick',
      imageSize: [32, 32],
      weights: 'random initialisation',
      data: 'synthetic signs (offline stand-in for GTSRB)',
    },
    show: false,
  });
  const longCode = `const cfg = nb.profileConfig({ quick: { imageSize: [32, 32], batchSize: 32 }, full: { imageSize: [224, 224], batchSize: 32 } }); // ${'wide '.repeat(20)}END`;
  const nbJson = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'tslab-finetune',
        display_name: 'TypeScript (tslab)',
        language: 'typescript',
      },
    },
    cells: [
      { cell_type: 'markdown', id: 'm1', metadata: {}, source: '# Report export' },
      {
        cell_type: 'code',
        id: 'c1',
        metadata: {},
        execution_count: 1,
        source: longCode,
        outputs: [],
      },
      {
        cell_type: 'code',
        id: 'c2',
        metadata: {},
        execution_count: 2,
        source: 'nb.classificationReport(labels, predicted, classNames);',
        outputs: [
          {
            output_type: 'display_data',
            metadata: {},
            data: { 'text/html': report.html, 'text/plain': report.text },
          },
        ],
      },
      {
        cell_type: 'code',
        id: 'c3',
        metadata: {},
        execution_count: 3,
        source: 'nb.resultsTable(rows, { published, setup });',
        outputs: [
          {
            output_type: 'display_data',
            metadata: {},
            data: { 'text/html': table.html, 'text/plain': table.text },
          },
        ],
      },
    ],
  };
  const file = path.join(dir, 'executed.ipynb');
  fs.writeFileSync(file, JSON.stringify(nbJson, null, 1));
  return file;
}

const python = findJupyterPython();
const chromium = findChromium() !== null;
const pdftotext = spawnSync('which', ['pdftotext']).status === 0;

test(
  'an executed notebook exports without a kernel: one self-contained HTML file',
  { skip: python ? false : 'Jupyter (nbconvert) is not installed' },
  async () => {
    const dir = tmpDir('export-');
    const file = executedNotebook(dir);
    assert.equal(isExecuted(file), true);
    assert.equal(exportSource(file, false), file, 'an executed notebook is exported, not run');
    const s = await exportNotebook(file, { python: python! });
    assert.equal(s.ok, true, s.error);
    const html = fs.readFileSync(s.html!, 'utf8');
    assert.deepEqual(externalReferences(html), [], 'nothing loaded from outside the file');
    assert.doesNotMatch(
      html,
      /<script/,
      'no scripts at all: require.js and MathJax are not needed',
    );
    assert.match(html, /@media print/);
    assert.match(html, /This run: profile quick, 32×32/);
    // A notebook without outputs is refused with the command that runs it.
    const blank = path.join(dir, 'blank.ipynb');
    fs.writeFileSync(
      blank,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          {
            cell_type: 'code',
            id: 'x',
            metadata: {},
            execution_count: null,
            source: '1',
            outputs: [],
          },
        ],
      }),
    );
    const refused = await exportNotebook(blank, { python: python! });
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /never executed\. Run it first: npm run report/);
  },
);

test(
  'printed (PDF), long tables print whole with their averages, the results table keeps title and columns, code wraps',
  {
    skip: !python
      ? 'Jupyter is not installed'
      : !chromium
        ? 'Chromium is not installed'
        : !pdftotext
          ? 'pdftotext (poppler-utils) is not installed'
          : false,
    timeout: 180_000,
  },
  async () => {
    const dir = tmpDir('pdf-');
    const { names } = gtsrbReport();
    const s = await exportNotebook(executedNotebook(dir), { python: python!, pdf: true });
    assert.ok(s.pdf && fs.existsSync(s.pdf));
    const text = pdfText(s.pdf!)!;
    assert.deepEqual(
      missingReportRows(text, names),
      [],
      'all 43 rows and the averages are printed',
    );
    assert.match(text, /This run: profile quick, 32×32/, 'the results table keeps its title');
    assert.match(text, /phase \/ run\s+accuracy\s+published\s+loss\s+published/, 'and its columns');
    assert.match(text, /END/, 'the end of a long code line is printed (wrapped, not cut)');
  },
);

test('npm run report picks what to export: an executed notebook as given, or reports/<name>.ipynb with --no-execute', () => {
  const dir = tmpDir('pick-');
  const executed = executedNotebook(dir);
  assert.equal(exportSource(executed, false), executed);
  const fresh = path.join(dir, 'fresh.ipynb');
  fs.writeFileSync(
    fresh,
    JSON.stringify({ cells: [{ cell_type: 'code', source: '1', outputs: [] }] }),
  );
  assert.equal(exportSource(fresh, false), null, 'a notebook without outputs is executed');
  const out = tmpDir('pick-out-');
  assert.throws(
    () => exportSource(fresh, true, out),
    /--no-execute: .*fresh\.ipynb does not exist; run the notebook once first/,
  );
  fs.copyFileSync(executed, path.join(out, 'fresh.ipynb'));
  assert.equal(exportSource(fresh, true, out), path.join(out, 'fresh.ipynb'));
});
