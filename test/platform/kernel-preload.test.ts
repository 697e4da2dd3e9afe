// The project's kernel as `npm run notebook` starts it (kernelspec with
// scripts/platform/tslab-preload.cjs): `{ model }` naming another cell's variable works, errors
// carry no tslab frames, and the first cell says at once that the backend is starting, then
// shows the backend with the time taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kernelScriptJson, skipWithoutJupyter as skip } from './kernel';
import { ROOT } from '../../scripts/platform/jupyter';

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

/**
 * The preload's functions, loaded without patching this process. The switch is taken off again at
 * once: the kernels later tests start inherit this process's environment.
 */
function preloadFunctions() {
  process.env.TSLAB_PRELOAD_OFF = '1';
  try {
    return require('../../scripts/platform/tslab-preload.cjs') as {
      serialiseSends: (z: typeof import('zeromq')) => boolean;
      giveFailedLookupsTheirOwnTimer: (sys: object) => boolean;
    };
  } finally {
    delete process.env.TSLAB_PRELOAD_OFF;
  }
}

const text = (c: CellResult) => c.outputs.map((o) => o.text).join('');
/** What only tslab's or Node's internals print: none of it belongs in a user's error. */
const INTERNALS =
  /tslab[\\/]dist|node:vm|node:internal|evalmachine|runInThisContext|sigintHandlersWrap/;

test(
  'kernel: shorthand across cells, errors without tslab frames, the first cell line at once',
  { skip, timeout: 900_000 },
  () => {
    const [decl, shorthand, typo, thrown, rejected, alive, first, missing, burst] = runCells([
      "const model = { name: 'resnet' };\nconst epochs = 3;",
      'const opts = { model, epochs, verbose: 0 };\n`${opts.model.name} ${opts.epochs}`',
      'const typo = { model, epochz };',
      "function check() {\n  throw new Error('boom');\n}\ncheck();",
      "await Promise.reject(new TypeError('async boom'));",
      '2 + 2',
      "import * as nb from './lib/index';\nconst backend = await nb.initBackend();",
      "await nb.flowFromDirectory('/no/such/folder', { targetSize: [8, 8] });",
      // 500 display updates in one go: without the preload's queue tslab's second send meets
      // zeromq's "Socket is busy writing" and the cell never finishes
      "import { newDisplay } from './lib/display';\nconst d = newDisplay();\nfor (let i = 0; i < 500; i++) d.update({ 'text/plain': `step ${i}` });\n'sent'",
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

    assert.equal(burst.status, 'ok', text(burst));
    assert.equal(burst.outputs.length, 501, 'every update and the value arrived');
    assert.equal(burst.outputs.at(-2)?.text, 'step 499');
    assert.doesNotMatch(text(burst), /not sent/);
  },
);

test("zeromq allows one send in progress per socket; the preload's queue sends each, in order", async () => {
  const zmq = require('zeromq') as typeof import('zeromq');
  const { serialiseSends } = preloadFunctions();
  const pub = new zmq.Publisher();
  const sub = new zmq.Subscriber();
  try {
    await pub.bind('tcp://127.0.0.1:*');
    sub.connect(pub.lastEndpoint!);
    sub.subscribe();
    await new Promise((r) => setTimeout(r, 300)); // the subscription reaches the publisher
    // The premise: sends issued back to back are refused while one is in progress (what tslab met).
    let refused = 0;
    const raw: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      try {
        raw.push(pub.send(['m', 'first']));
      } catch (e) {
        assert.match((e as Error).message, /Socket is busy writing/);
        refused++;
      }
    }
    await Promise.allSettled(raw);
    assert.ok(refused > 0, 'zeromq accepted every send: the queue may no longer be needed');
    assert.equal(serialiseSends(zmq), true);
    const sent: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) sent.push(pub.send(['m', String(i)]));
    await Promise.all(sent);
    const got: string[] = [];
    for await (const [, body] of sub) {
      const v = body.toString();
      if (v === 'first') continue;
      got.push(v);
      if (got.length === 2000) break;
    }
    assert.deepEqual(
      got,
      Array.from({ length: 2000 }, (_, i) => String(i)),
    );
  } finally {
    pub.close();
    sub.close();
  }
});

test(
  'kernel: saving an imported file while a cell runs raises nothing, and the next cell sees the save',
  { skip, timeout: 600_000 },
  () => {
    // A folder of the project (the kernel's working directory), so tslab watches it as it watches
    // lib/. The module imports a package: its failed lookups (./node_modules here) are watched too.
    const dir = `.cache/test-kernel-save-${process.pid}`;
    const source = (v: number) =>
      JSON.stringify(
        `import * as tf from '@tensorflow/tfjs';\nexport const v = ${v};\nexport const t = tf.version_core;\n`,
      );
    try {
      const [, first, missing, saved, after] = runCells([
        `import * as fs from 'fs';\nfs.mkdirSync('${dir}', { recursive: true });\nfs.writeFileSync('${dir}/mod.ts', ${source(1)});`,
        `import { v } from './${dir}/mod';\nv`,
        `import { w } from './${dir}/later';`,
        // an editor's save: a temporary file renamed over the original, then a file an earlier cell
        // failed to import, then a folder where a failed lookup looked
        `fs.writeFileSync('${dir}/mod.ts.tmp', ${source(2)});\nfs.renameSync('${dir}/mod.ts.tmp', '${dir}/mod.ts');\n` +
          `await new Promise((r) => setTimeout(r, 1500));\nfs.writeFileSync('${dir}/later.ts', 'export const w = 5;\\n');\n` +
          `fs.mkdirSync('${dir}/node_modules');\nawait new Promise((r) => setTimeout(r, 1500));\n'saved'`,
        `import { v as v2 } from './${dir}/mod';\nimport { w as w2 } from './${dir}/later';\n[v2, w2].join(' ')`,
      ]);
      assert.equal(text(first).trim(), '1');
      assert.equal(missing.status, 'error');
      assert.match(text(missing), /Cannot find module/);
      // Without the preload's timers this cell showed "UncaughtException: Error: Unexpected
      // pending rebuildTimer" from tslab's TypeScript host.
      assert.equal(saved.status, 'ok', text(saved));
      assert.equal(text(saved).trim(), 'saved');
      assert.equal(after.status, 'ok', text(after));
      assert.equal(text(after).trim(), '2 5', 'the next cell compiles against the saved files');
    } finally {
      fs.rmSync(path.join(ROOT, dir), { recursive: true, force: true });
    }
  },
);

test("tslab's one timer slot keeps the program update; TypeScript's failed-lookup timer runs on Node's", async () => {
  const { giveFailedLookupsTheirOwnTimer } = preloadFunctions();
  const base = { setTimeout: () => 'base', clearTimeout: () => undefined };
  assert.equal(giveFailedLookupsTheirOwnTimer(base), true);
  // tslab's host: one pending timer at most, run when the next cell compiles
  const sys = Object.create(base) as { setTimeout: Function; clearTimeout: Function };
  let slot: { callback: () => void } | null = null;
  sys.setTimeout = (callback: () => void) => {
    if (slot) throw new Error('Unexpected pending rebuildTimer');
    return (slot = { callback });
  };
  sys.clearTimeout = (t: unknown) => {
    if (t !== slot) throw new Error('clearing unexpected timer');
    slot = null;
  };
  const ran: string[] = [];
  function updateProgramWithWatchStatus() {
    ran.push('update');
  }
  function invalidateResolutionsOfFailedLookup() {
    ran.push('failed lookups');
  }
  const update = sys.setTimeout(updateProgramWithWatchStatus, 250);
  assert.equal(slot, update, 'the program update waits in tslab’s slot');
  const lookups = sys.setTimeout(invalidateResolutionsOfFailedLookup, 10); // threw before
  const cancelled = sys.setTimeout(invalidateResolutionsOfFailedLookup, 10);
  sys.clearTimeout(cancelled);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(ran, ['failed lookups'], 'the failed-lookup timer ran once, on its own');
  assert.notEqual(lookups, update);
  sys.clearTimeout(update);
  assert.equal(slot, null);
  assert.equal(base.setTimeout(), 'base', 'ts.sys itself keeps its own timers');
});
