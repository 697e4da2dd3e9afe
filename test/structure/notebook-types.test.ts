// The notebooks' code cells type-check against lib/index.ts under tslab's own compiler and options:
// a renamed or unexported cell, or a changed option type, fails here instead of in the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { notebookSources, tslabDiagnostics } from '../../scripts/platform/tslab-check';
import { ROOT } from '../helpers';

test("every notebook's code cells compile against lib/index.ts as tslab compiles them", () => {
  const sources = notebookSources();
  assert.ok(sources.size >= 3, `found ${sources.size} notebooks`);
  const [first] = sources.keys();
  assert.deepEqual(tslabDiagnostics(first, sources), []);
});

test('the check sees a cell that calls what lib/index.ts does not export', () => {
  const bad = path.join(ROOT, 'bad-notebook.ipynb.ts');
  const sources = new Map([[bad, 'export {};\nimport * as nb from "./lib/index";\nawait nb.notACell({ epochs: 3 });']]);
  const diags = tslabDiagnostics(bad, sources);
  assert.ok(diags.some((d) => /bad-notebook\.ipynb\.ts:3:.*notACell/.test(d)), diags.join('\n'));
});
