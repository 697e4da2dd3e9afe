// The project's kernel as `npm run notebook` starts it (kernelspec with
// scripts/platform/tslab-preload.cjs): `{ model }` naming another cell's variable works, errors
// carry no tslab frames, and the first cell says at once that the backend is starting, then
// shows the backend with the time taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelScriptJson, skipWithoutJupyter as skip } from './kernel';

interface Output {
  t: number;
  kind: string;
  text: string;
}
interface CellResult {
  status: string;
  outputs: Output[];
}

function runCells(cells: string[]): CellResult[] {
  return kernelScriptJson<CellResult[]>('run_cells.py', {
    input: JSON.stringify(cells),
    timeout: 600_000,
  });
}

const text = (c: CellResult) => c.outputs.map((o) => o.text).join('');
/** What only tslab's or Node's internals print: none of it belongs in a user's error. */
const INTERNALS =
  /tslab[\\/]dist|node:vm|node:internal|evalmachine|runInThisContext|sigintHandlersWrap/;

test(
  'kernel: shorthand across cells, errors without tslab frames, the first cell line at once',
  { skip, timeout: 900_000 },
  () => {
    const [decl, shorthand, typo, thrown, rejected, alive, first, missing] = runCells([
      "const model = { name: 'resnet' };\nconst epochs = 3;",
      'const opts = { model, epochs, verbose: 0 };\n`${opts.model.name} ${opts.epochs}`',
      'const typo = { model, epochz };',
      "function check() {\n  throw new Error('boom');\n}\ncheck();",
      "await Promise.reject(new TypeError('async boom'));",
      '2 + 2',
      "import * as nb from './lib/index';\nconst backend = await nb.initBackend();",
      "await nb.flowFromDirectory('/no/such/folder', { targetSize: [8, 8] });",
    ]);
    assert.equal(decl.status, 'ok', text(decl));
    assert.equal(shorthand.status, 'ok', text(shorthand));
    assert.equal(text(shorthand).trim(), 'resnet 3', '{ model } must reach the earlier cell');

    // The compile error points at the name as typed (1-based line:column of `epochz`).
    assert.equal(typo.status, 'error');
    assert.match(text(typo), /^1:23 - Cannot find name 'epochz'/m);

    assert.equal(thrown.status, 'error');
    assert.match(text(thrown), /^Error: boom\n {4}at check \(in a cell\)\n?$/);
    assert.equal(rejected.status, 'error');
    assert.equal(text(rejected).trim(), 'TypeError: async boom');
    assert.equal(alive.status, 'ok');
    assert.equal(text(alive).trim(), '4', 'the kernel runs on after errors');

    assert.equal(first.status, 'ok', text(first));
    const [starting, ready] = first.outputs;
    assert.match(starting.text, /^starting the backend…/);
    assert.ok(starting.t < 3, `the first line came after ${starting.t.toFixed(1)} s`);
    assert.equal(ready.kind, 'display_data');
    assert.match(
      ready.text,
      /^Backend: \w+ .* · ready in \d+\.\d s \(library compiled and loaded in \d+\.\d s, backend started in \d+\.\d s\)$/,
    );

    assert.equal(missing.status, 'error');
    assert.match(text(missing), /^Error: Image folder not found: \/no\/such\/folder\./);
    assert.match(text(missing), /at listClassFolders \(lib\/data\/directory\.ts\)/);
    for (const c of [thrown, rejected, missing]) assert.doesNotMatch(text(c), INTERNALS);
  },
);
