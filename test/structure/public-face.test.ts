// lib/index.ts is the notebooks' entry point: every `nb.<name>` a notebook (or a notebook fixture of
// the tests) uses must be exported there, and everything it exports must exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nb from '../../lib/index';

const ROOT = path.resolve(__dirname, '..', '..');

function notebookFiles(): string[] {
  const dirs = ['notebooks', 'test/charts/fixtures', 'test/platform/fixtures'].map((d) =>
    path.join(ROOT, d),
  );
  return dirs
    .filter((d) => fs.existsSync(d))
    .flatMap((d) =>
      fs
        .readdirSync(d)
        .filter((f) => f.endsWith('.ipynb'))
        .map((f) => path.join(d, f)),
    );
}

/** The `nb.<name>` uses in a notebook's code cells. */
function namesUsed(file: string): string[] {
  const cells = (
    JSON.parse(fs.readFileSync(file, 'utf8')) as {
      cells: { cell_type: string; source: string | string[] }[];
    }
  ).cells;
  const code = cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n');
  return [...new Set([...code.matchAll(/\bnb\.(\w+)/g)].map((m) => m[1]))];
}

test('every nb.<name> the notebooks use is exported by lib/index.ts', () => {
  const files = notebookFiles();
  assert.ok(
    files.some((f) => f.includes(`${path.sep}notebooks${path.sep}`)),
    'no notebook found under notebooks/',
  );
  const exported = new Set(Object.keys(nb));
  const missing = files.flatMap((f) =>
    namesUsed(f)
      .filter((n) => !exported.has(n))
      .map((n) => `${path.relative(ROOT, f)}: nb.${n}`),
  );
  assert.deepEqual(missing, [], `not exported by lib/index.ts:\n${missing.join('\n')}`);
});

test('lib/index.ts exports only names that exist (no undefined re-export)', () => {
  const undefinedNames = Object.entries(nb)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  assert.deepEqual(undefinedNames, []);
  assert.ok(Object.keys(nb).length >= 40, 'the notebooks call at least 40 cells');
});

/** The names in the README's "cells exported by lib/index.ts" table (the identifier that starts each `code` span; file names are skipped). */
function readmeTableNames(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('| folder | cells exported by `lib/index.ts` |');
  assert.ok(
    start >= 0,
    "README.md has no table headed '| folder | cells exported by `lib/index.ts` |'",
  );
  const lines = readme.slice(start).split('\n');
  const end = lines.findIndex((l) => !l.startsWith('|'));
  const rows = lines.slice(2, end);
  const cells = rows.map((r) => r.split('|')[2] ?? '');
  return [...new Set(cells.flatMap((c) => [...c.matchAll(/`(\w+)(?![\w.])/g)].map((m) => m[1])))];
}

test("the README's table of exported cells is what lib/index.ts exports", () => {
  const listed = readmeTableNames();
  const exported = Object.keys(nb);
  assert.ok(listed.length >= 40, `read only ${listed.length} names from the README's table`);
  assert.deepEqual(
    listed.filter((n) => !exported.includes(n)),
    [],
    'listed in the README but not exported by lib/index.ts',
  );
  assert.deepEqual(
    exported.filter((n) => !listed.includes(n)),
    [],
    "exported by lib/index.ts but missing from the README's table",
  );
});

test('importing lib/index leaves tfjs usable before initBackend (no backend registered above cpu)', () => {
  // A fresh process, as a notebook's first cells: import the library, then run a tf op at once.
  const code =
    "const tf = require('@tensorflow/tfjs'); require('./lib/index');" +
    'console.log(tf.tensor([1, 2, 3]).sum().dataSync()[0], tf.getBackend());';
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^6 cpu$/m);
});
