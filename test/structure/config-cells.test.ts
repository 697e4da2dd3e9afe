// The notebooks' config cells show what differs between the profiles, briefly, under one set of
// key names: `profileConfig({ shared, quick, full })`, at most 25 lines, and a setting of a phase
// named phase first (`fineTuneEpochs`, `scratchEpochs`), as notebook 02 always did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const NOTEBOOKS = path.resolve(__dirname, '..', '..', 'notebooks');

function configCells(): { notebook: string; code: string }[] {
  return fs
    .readdirSync(NOTEBOOKS)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()
    .map((f) => {
      const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, f), 'utf8'));
      const cell = nb.cells.find(
        (c: { cell_type: string; source: string[] }) =>
          c.cell_type === 'code' && c.source.join('').includes('nb.profileConfig('),
      );
      assert.ok(cell, `${f} has no config cell (nb.profileConfig)`);
      return { notebook: f, code: cell.source.join('') };
    });
}

test('every config cell has shared settings and at most 25 lines', () => {
  const cells = configCells();
  assert.ok(cells.length >= 4, 'every notebook, 04 (your own images) included');
  for (const { notebook, code } of cells) {
    const lines = code.split('\n').length;
    assert.ok(lines <= 25, `${notebook}: config cell has ${lines} lines (at most 25)`);
    assert.match(code, /\bshared: \{/, `${notebook}: settings both profiles use go in shared`);
  }
});

test('config keys name the phase first, the same way in every notebook', () => {
  for (const { notebook, code } of configCells()) {
    const keys = [...code.matchAll(/\b([a-z]\w*):/g)].map((m) => m[1]);
    const misnamed = keys.filter((k) => /.(FineTune|Scratch)/.test(k));
    assert.deepEqual(
      misnamed,
      [],
      `${notebook}: write fineTuneEpochs / scratchEpochs, not epochsFineTune`,
    );
  }
});
