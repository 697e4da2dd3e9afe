// Jupyter's Interrupt during trainPhase in a real tslab kernel: the cell stops after the current
// batch, the kernel (and everything in memory) survives, the next cell runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  findJupyterPython,
  registerKernel,
  jupyterEnv,
  ROOT,
} from '../../scripts/platform/jupyter';

const python = findJupyterPython();
const skip = python ? false : 'Jupyter is not installed (run `npm run setup`)';

test(
  'interrupting the kernel during trainPhase stops the cell after the current batch; the kernel survives',
  { skip },
  () => {
    registerKernel();
    const r = spawnSync(python!, [path.join(__dirname, 'interrupt_kernel.py')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: jupyterEnv(),
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.match(out.setup, /setup done/);
    assert.equal(out.interrupted, true, `training never started: ${JSON.stringify(out)}`);
    assert.equal(out.alive_after, true, `the kernel died: ${JSON.stringify(out)}`);
    const m = /next cell ran; model still here: true; batches (\d+) then (\d+)/.exec(out.next);
    assert.ok(m, out.next);
    assert.equal(m[1], m[2], 'the training loop stopped instead of going on in the background');
    assert.equal(out.alive_after_idle_interrupt, true);
  },
);
