// The notebook formatter with a stand-in for prettier (the real one is a devDependency the test
// does not need): which cells it touches, Jupyter's source layout, --check writing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatNotebook, longCodeLines, PRETTIER_OPTIONS } from '../../scripts/platform/format-notebooks';
import { tmpDir } from '../helpers';

const long = `const x = f(${Array.from({ length: 30 }, (_, i) => `a${i}`).join(', ')});`;
// Breaks calls after each comma, as prettier does with a call wider than printWidth.
const fakePrettier = {
  calls: [] as object[],
  format(code: string, opts: object) {
    this.calls.push(opts);
    return code.replace(/, /g, ',\n  ') + '\n';
  },
};

function notebook(dir: string): string {
  const file = path.join(dir, 'nb.ipynb');
  const cells = [
    { cell_type: 'markdown', metadata: {}, source: ['a, b'] },
    { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['const short = g(a, b);'] },
    { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: [`${long}\n`, 'x;'] },
  ];
  fs.writeFileSync(file, JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1) + '\n');
  return file;
}

test('format:notebooks formats the code cells with lines over 100 columns, in Jupyter layout', async () => {
  const file = notebook(tmpDir('fmt-'));
  assert.deepEqual(longCodeLines(file).map((l) => [l.cell, l.line]), [[2, 1]]);
  const original = fs.readFileSync(file, 'utf8');
  assert.deepEqual(await formatNotebook(file, { prettier: fakePrettier, check: true }), [2]);
  assert.equal(fs.readFileSync(file, 'utf8'), original, '--check writes nothing');
  assert.deepEqual(await formatNotebook(file, { prettier: fakePrettier }), [2]);
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(nb.cells[1].source, ['const short = g(a, b);'], 'a cell within 100 columns keeps its layout');
  assert.deepEqual(nb.cells[0].source, ['a, b'], 'markdown untouched');
  assert.equal(nb.cells[2].source[0], 'const x = f(a0,\n');
  assert.ok(!nb.cells[2].source.at(-1).endsWith('\n'), "the last line has no newline (Jupyter's layout)");
  assert.deepEqual(longCodeLines(file), []);
  assert.deepEqual(fakePrettier.calls.at(-1), PRETTIER_OPTIONS);
  assert.equal((PRETTIER_OPTIONS as { printWidth: number }).printWidth, 100);
  // --all formats every code cell.
  assert.deepEqual(await formatNotebook(file, { prettier: fakePrettier, all: true, check: true }), [1], 'the short cell too (the long one is formatted already)');
});

test('format:notebooks names the notebook and cell when prettier cannot parse a cell', async () => {
  const file = notebook(tmpDir('fmt-'));
  const broken = { format: () => { throw new Error("';' expected. (1:5)"); } };
  await assert.rejects(formatNotebook(file, { prettier: broken }), /nb\.ipynb, code cell 2: prettier cannot parse it: ';' expected/);
});

let prettierInstalled = true;
try {
  require.resolve('prettier');
} catch {
  prettierInstalled = false;
}

test('real prettier formats copies of the three notebooks (top-level await and all) within 100 columns where it can', { skip: prettierInstalled ? false : 'prettier is not installed (npm install -D prettier)' }, async () => {
  const dir = tmpDir('fmt-real-');
  const root = path.resolve(__dirname, '..', '..', 'notebooks');
  for (const f of fs.readdirSync(root).filter((x) => x.endsWith('.ipynb'))) {
    const copy = path.join(dir, f);
    fs.copyFileSync(path.join(root, f), copy);
    await formatNotebook(copy); // throws, naming the cell, when prettier cannot parse one
    const again = await formatNotebook(copy, { check: true });
    // Whatever is left over 100 columns prettier cannot break (a long string); a formatted cell is stable.
    const long = new Set(longCodeLines(copy).map((l) => l.cell));
    assert.deepEqual(again.filter((c) => !long.has(c)), [], `${f}: formatting is stable`);
  }
});
