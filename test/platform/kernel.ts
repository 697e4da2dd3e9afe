// What the tests that run the project's real kernel share: Jupyter's Python (or a skip reason that
// says how to install it), and running one of this folder's Python scripts against the kernelspec
// `npm run notebook` registers (kernel_session.py starts the kernel inside the script).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  findJupyterPython,
  registerKernel,
  jupyterEnv,
  ROOT,
} from '../../scripts/platform/jupyter';

/** Debian's python3 with jupyter_client, or null. */
export const python = findJupyterPython();
/** The node:test `skip` option of every kernel test. */
export const skipWithoutJupyter = python ? false : 'Jupyter is not installed (run `npm run setup`)';

/**
 * Register the project's kernelspec, run `test/platform/<script>` with Jupyter's Python (JUPYTER_PATH
 * set, from the project root) and fail with the script's stderr when it exits non-zero.
 */
export function runKernelScript(
  script: string,
  opts: { timeout: number; input?: string },
): SpawnSyncReturns<string> {
  registerKernel();
  const r = spawnSync(python!, [path.join(__dirname, script)], {
    cwd: ROOT,
    input: opts.input,
    encoding: 'utf8',
    env: jupyterEnv(),
    timeout: opts.timeout,
  });
  assert.equal(r.status, 0, `${script} failed:\n${r.stderr.slice(-3000)}`);
  return r;
}

/** runKernelScript, then the JSON line the script printed last. */
export function kernelScriptJson<T>(script: string, opts: { timeout: number; input?: string }): T {
  return JSON.parse(runKernelScript(script, opts).stdout.trim().split('\n').pop()!) as T;
}
