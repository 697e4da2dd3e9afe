// The real thing: Jupyter + the tslab kernel executing notebooks headless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { registerKernel, jupyterEnv, ROOT } from '../../scripts/platform/jupyter';
import { executeNotebook } from '../../scripts/platform/execute';
import { tmpDir } from '../helpers';
import { python, runKernelScript, skipWithoutJupyter as skip } from './kernel';
const fixtures = path.join(__dirname, 'fixtures');

test(
  'a notebook runs headless: execution counts filled, bundles kept in .ipynb and HTML, metrics collected',
  { skip },
  async () => {
    registerKernel();
    const out = tmpDir();
    const s = await executeNotebook(path.join(fixtures, 'smoke.ipynb'), {
      python: python!,
      outDir: out,
    });
    assert.equal(s.ok, true, s.error);
    // The backend the kernel ran on travels with the metrics (npm start prints it per notebook).
    const { backend, ...metrics } = s.metrics as Record<string, unknown>;
    assert.deepEqual(metrics, { accuracy: 0.5 });
    assert.match(String(backend), /^(onednn|tensorflow|wasm|cpu)$/);
    const nb = JSON.parse(fs.readFileSync(s.executed, 'utf8'));
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === 'code');
    assert.deepEqual(
      code.map((c: { execution_count: number }) => c.execution_count),
      [1, 2, 3],
    );
    // The first cell to import the library says so at once (the kernel's preload), then runs.
    const first = code[0].outputs.map((o: { text?: string[] }) => (o.text ?? []).join('')).join('');
    assert.match(first, /^starting the backend…[^\n]*\nkernel: true/);
    const bundle = code[1].outputs[0].data;
    assert.deepEqual(Object.keys(bundle).sort(), [
      'application/vnd.vegalite.v5+json',
      'image/svg+xml',
      'text/plain',
    ]);
    const html = fs.readFileSync(s.html!, 'utf8');
    assert.match(html, /<svg[^>]*width="40" height="20"/);
    assert.match(html, /<title>smoke \(profile quick\)<\/title>/);
  },
);

test(
  'a failing cell makes `npm run report` exit non-zero naming the notebook, cell and error; the report shows it',
  { skip },
  () => {
    const out = tmpDir();
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'scripts', 'report.ts'),
        path.join(fixtures, 'failing.ipynb'),
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: jupyterEnv(),
      },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /failing\.ipynb failed in cell In \[2\]/);
    assert.match(r.stderr, /boom: the folder \/nope is missing/);
    const nb = JSON.parse(fs.readFileSync(path.join(out, 'failing.ipynb'), 'utf8'));
    const err = nb.cells[1].outputs.find((o: { output_type: string }) => o.output_type === 'error');
    assert.equal(err.ename, 'Error');
    assert.equal(err.evalue, 'boom: the folder /nope is missing');
    assert.equal(nb.cells[2].execution_count, null, 'cells after the failure are not run');
    assert.match(
      fs.readFileSync(path.join(out, 'failing.html'), 'utf8'),
      /boom: the folder \/nope is missing/,
    );
  },
);

test(
  'the tslab kernel passes jupyter_kernel_test (known tslab gaps marked expectedFailure)',
  { skip },
  () => {
    const r = runKernelScript('kernel_conformance.py', { timeout: 300_000 });
    assert.match(r.stderr, /OK \(skipped=\d+, expected failures=3\)/);
  },
);

const chromium = ['chromium', 'chromium-browser'].some((c) => spawnSync('which', [c]).status === 0);
test(
  '--pdf prints the HTML report to PDF through headless Chromium',
  { skip: skip || (chromium ? false : 'Chromium is not installed (apt-get install chromium)') },
  async () => {
    registerKernel();
    const s = await executeNotebook(path.join(fixtures, 'smoke.ipynb'), {
      python: python!,
      outDir: tmpDir(),
      pdf: true,
    });
    assert.ok(s.pdf && fs.existsSync(s.pdf));
    assert.equal(fs.readFileSync(s.pdf).subarray(0, 5).toString(), '%PDF-');
  },
);
