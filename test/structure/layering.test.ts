// The library's layering, as the README's "How the library is layered" section states it: every
// import between lib/ folders runs down, never up or sideways.
//
//   export      the trained model as a web page
//   report      what a run is (disclosure, differences from the walkthrough) and its conclusion
//   charts      learning curves, grids, tables: read models, datasets, histories and evaluations
//   evaluate    metrics and reports on a model and a dataset
//   train       heads, compile, the training loop, callbacks, cached features
//   models      the bases and their architecture records, weights
//   data        datasets, decoding, augmentation, preprocess_input;   backend: which tfjs backend runs
//   shared      config.ts, display.ts, seed.ts, rng.ts, io/, esm.cjs: usable by every folder, import no folder
//
// lib/index.ts, the notebooks' entry point, sits on top and may import anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LIB, libEdges, relativeImports } from './imports';

/** Bottom first; a folder may import folders of lower layers (and the shared units), not its own layer's others. */
const LAYERS: string[][] = [
  ['backend', 'data'],
  ['models'],
  ['train'],
  ['evaluate'],
  ['charts'],
  ['report'],
  ['export'],
];
const SHARED = ['config', 'display', 'io', 'esm', 'rng', 'seed'];

/** The unit a lib/ file belongs to: its top-level folder, or its own name for a top-level file. */
function unitOf(rel: string): string {
  const [first] = rel.split('/');
  return first.replace(/\.(ts|cjs|js)$/, '');
}

/** Why an import between two units breaks the layering, or null when it is allowed. */
function violation(fromUnit: string, toUnit: string): string | null {
  if (fromUnit === toUnit || fromUnit === 'index') return null;
  if (toUnit === 'index')
    return "nothing in lib/ imports lib/index.ts (it is the notebooks' entry point)";
  if (SHARED.includes(toUnit)) return null;
  if (SHARED.includes(fromUnit)) return `${fromUnit} is shared by every folder, so it imports none`;
  const lf = level(fromUnit);
  const lt = level(toUnit);
  if (lf < 0 || lt < 0)
    return `lib/${lf < 0 ? fromUnit : toUnit} is in no layer: add it to LAYERS here and to the README's layering section`;
  if (lt < lf) return null;
  return lt === lf
    ? `${fromUnit} and ${toUnit} share a layer and must not import each other`
    : `${toUnit} is above ${fromUnit}`;
}

function level(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

test("every import between lib/ folders runs down the layers (the README's layering section)", () => {
  const edges = libEdges();
  assert.ok(
    edges.length > 50,
    `found only ${edges.length} imports in lib/: the import scanner is broken`,
  );
  const bad: string[] = [];
  for (const e of edges) {
    const why = violation(unitOf(e.from), unitOf(e.to));
    if (!why) continue;
    bad.push(`lib/${e.from} imports '${e.spec}' (lib/${e.to}): ${why}`);
  }
  assert.deepEqual(bad, [], `imports against the layering:\n${bad.join('\n')}`);
});

test('the layering check catches an upward, a sideways and a shared-to-folder import', () => {
  assert.equal(violation('train', 'data'), null);
  assert.equal(violation('charts', 'display'), null);
  assert.equal(violation('index', 'charts'), null);
  assert.match(violation('models', 'charts') ?? '', /charts is above models/);
  assert.match(violation('backend', 'data') ?? '', /share a layer/);
  assert.match(violation('data', 'models') ?? '', /models is above data/);
  assert.match(violation('display', 'data') ?? '', /imports none/);
  assert.match(violation('train', 'index') ?? '', /entry point/);
  assert.match(violation('plots', 'data') ?? '', /in no layer/);
  assert.deepEqual(
    relativeImports(
      `import a from './a';\nexport { b } from '../b';\nimport './c';\nconst d = require('../d');\nimport * as tf from '@tensorflow/tfjs';`,
    ),
    ['./a', '../b', './c', '../d'],
  );
});

test('the layers listed here are the folders of lib/', () => {
  const folders = fs
    .readdirSync(LIB, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const listed = [...LAYERS.flat(), ...SHARED].filter((u) => folders.includes(u)).sort();
  assert.deepEqual(
    folders,
    listed,
    'a new lib/ folder needs a place in LAYERS (or SHARED) and in the README',
  );
});

test("the README's layering table lists these layers and shared modules", () => {
  const readme = fs.readFileSync(path.resolve(LIB, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('| layer | folders | holds |');
  assert.ok(start >= 0, "README.md has no table headed '| layer | folders | holds |'");
  const lines = readme.slice(start).split('\n');
  const rows = lines
    .slice(
      2,
      lines.findIndex((l) => !l.startsWith('|')),
    )
    .map((r) => r.split('|').map((c) => c.trim()));
  const units = (cell: string) =>
    [...cell.matchAll(/`([^`]+)`/g)]
      .map((m) => m[1].replace(/\/$/, '').replace(/\.(ts|cjs)$/, ''))
      .sort();
  const layers = rows
    .filter((r) => /^\d+$/.test(r[1]))
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((r) => units(r[2]));
  const shared = rows.filter((r) => r[1] === 'shared').flatMap((r) => units(r[2]));
  assert.deepEqual(
    layers,
    LAYERS.map((l) => [...l].sort()),
  );
  assert.deepEqual(shared, [...SHARED].sort());
});
