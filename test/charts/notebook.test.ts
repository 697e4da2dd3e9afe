// Every chart, grid and table through the real kernel and the HTML export (skips without Jupyter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyterPython, registerKernel } from '../../scripts/platform/jupyter';
import { executeNotebook } from '../../scripts/platform/execute';
import { tmpDir } from '../helpers';

const python = findJupyterPython();
const skip = python ? false : 'Jupyter is not installed (run `npm run setup`)';
type Output = {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
  name?: string;
};

let html = '';

test(
  'charts notebook runs in tslab: each cell shows its bundle and nothing else',
  { skip },
  async () => {
    registerKernel();
    const out = tmpDir('charts-nb-');
    const s = await executeNotebook(path.join(__dirname, 'fixtures', 'charts.ipynb'), {
      python: python!,
      outDir: out,
    });
    assert.equal(s.ok, true, s.error);
    const nb = JSON.parse(fs.readFileSync(s.executed, 'utf8'));
    const code: { source: string[]; outputs: Output[] }[] = nb.cells.filter(
      (c: { cell_type: string }) => c.cell_type === 'code',
    );
    const cell = (needle: string) => code.find((c) => c.source.join('').includes(needle))!;
    const mimes = (c: { outputs: Output[] }) =>
      c.outputs
        .filter((o) => o.output_type === 'display_data')
        .map((o) => Object.keys(o.data!).sort().join(','));
    const stdout = (c: { outputs: Output[] }) =>
      c.outputs
        .filter((o) => o.name === 'stdout')
        .map((o) => [o.text].flat().join(''))
        .join('');
    const chart = 'application/vnd.vegalite.v5+json,image/svg+xml,text/plain';
    for (const fn of ['plotHistory(', 'plotPhases(', 'compareHistories(', 'plotLearningRate(']) {
      assert.deepEqual(mimes(cell(fn)), [chart], fn);
      assert.equal(stdout(cell(fn)), '', `${fn}: the chart and nothing under it`);
    }
    assert.deepEqual(mimes(cell('plotConfusionMatrix(')), [chart, 'text/html,text/plain']);
    assert.deepEqual(mimes(cell('showBatch(')), ['image/jpeg,text/plain']);
    assert.deepEqual(mimes(cell('predictGrid(')), ['image/jpeg,text/plain']);
    for (const fn of [
      'plotConfusionMatrix(',
      'showBatch(',
      'predictGrid(',
      'predictImage(',
      'resultsTable(',
    ])
      assert.equal(stdout(cell(fn)), '', `${fn} prints nothing under its output`);
    assert.deepEqual(mimes(cell('predictImage(')), ['text/html,text/plain']);
    assert.deepEqual(mimes(cell('resultsTable(')), ['text/html,text/markdown,text/plain']);
    html = fs.readFileSync(s.html!, 'utf8');
    for (const t of [
      'Training history: transfer learning',
      'transfer learning → fine-tuning',
      'Top 1 confusions',
      'Results at a glance',
      'This run: profile quick, 75×75',
      'Not comparable',
      'Top 3 predictions',
    ]) {
      assert.ok(html.includes(t), `HTML report has "${t}"`);
    }
    assert.ok(
      (html.match(/<img src="data:image\/jpeg;base64,/g) ?? []).length >= 2,
      'grids embedded as JPEG',
    );
  },
);

// nbconvert 6.5 (Debian) passes SVG outputs through lxml's clean_html, which drops every SVG
// element but <svg> and leaves only the text: the charts are blank in the HTML report until the
// exporter stops cleaning our own outputs (scripts/platform/nbexec.py: HTMLExporter(...,
// filters={'clean_html': lambda s: s})).
test("HTML report keeps the charts' SVG drawing (paths, not just text)", { skip }, () => {
  const svgs = [...html.matchAll(/<svg[^>]*class="marks"[^>]*>(.*?)<\/svg>/gs)].map((m) => m[1]);
  assert.ok(svgs.length >= 5, `${svgs.length} chart SVGs`);
  assert.ok(
    svgs.every((s) => s.includes('<path')),
    'every chart SVG still has its paths',
  );
});
