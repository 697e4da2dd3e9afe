// `npm run notebook`: the classic server starts on 127.0.0.1 with token auth and offers the project kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findJupyterPython, jupyterEnv, ROOT, KERNEL_NAME } from '../../scripts/platform/jupyter';

const skip = findJupyterPython() ? false : 'Jupyter is not installed (run `npm run setup`)';

test(
  'npm run notebook serves the project kernel on 127.0.0.1 behind a token, and a kernel starts there',
  { skip, timeout: 120_000 },
  async () => {
    const port = 18000 + Math.floor(Math.random() * 1000);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'notebook-server.ts')],
      {
        cwd: ROOT,
        env: jupyterEnv({ NB_PORT: String(port) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    try {
      let token = '';
      for (let i = 0; i < 100 && !token; i++) {
        await new Promise((r) => setTimeout(r, 300));
        token = /http:\/\/127\.0\.0\.1:\d+\/\?token=([0-9a-f]+)/.exec(log)?.[1] ?? '';
      }
      assert.ok(token, `no URL with a token in the server log:\n${log}`);
      const base = `http://127.0.0.1:${port}`;
      assert.equal(
        (await fetch(`${base}/api/kernelspecs`)).status,
        403,
        'the API must refuse requests without the token',
      );
      const specs = (await (await fetch(`${base}/api/kernelspecs?token=${token}`)).json()) as {
        kernelspecs: Record<string, unknown>;
      };
      assert.ok(KERNEL_NAME in specs.kernelspecs, Object.keys(specs.kernelspecs).join(','));
      const kernel = (await (
        await fetch(`${base}/api/kernels?token=${token}`, {
          method: 'POST',
          body: JSON.stringify({ name: KERNEL_NAME }),
        })
      ).json()) as { id: string; name: string };
      assert.equal(kernel.name, KERNEL_NAME);
      // The kernel process runs tslab with the connection file Jupyter made for this kernel id.
      let running = false;
      for (let i = 0; i < 50 && !running; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
        running = ps
          .split('\n')
          .some((l) => l.includes('tslab') && l.includes(`kernel-${kernel.id}.json`));
      }
      assert.ok(running, `no tslab process for kernel ${kernel.id}`);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  },
);
