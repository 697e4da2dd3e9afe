// `npm run notebook`: the classic server starts on 127.0.0.1 with token auth and offers the project
// kernel; a kernel starts the way a browser starts one (POST /api/sessions, not /api/kernels) and
// learns its notebook's path through JPY_SESSION_NAME (the run folder derives from it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyterPython, jupyterEnv, ROOT, KERNEL_NAME } from '../../scripts/platform/jupyter';

const skip = findJupyterPython() ? false : 'Jupyter is not installed (run `npm run setup`)';

/** pid of the tslab process whose connection file is this kernel's, or 0. */
function tslabPid(kernelId: string): number {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  const line = ps
    .split('\n')
    .find((l) => l.includes('tslab') && l.includes(`kernel-${kernelId}.json`));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}

test(
  'npm run notebook serves the project kernel behind a token; POST /api/sessions starts it with JPY_SESSION_NAME',
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
      // The request the Notebook UI sends when it opens a notebook (notebook/static/services/sessions/session.js).
      const nbPath = 'notebooks/01-resnet50-stanford-cars-transfer-learning.ipynb';
      const res = await fetch(`${base}/api/sessions?token=${token}`, {
        method: 'POST',
        body: JSON.stringify({
          path: nbPath,
          name: path.basename(nbPath),
          type: 'notebook',
          kernel: { name: KERNEL_NAME },
        }),
      });
      const body = await res.text();
      assert.equal(res.status, 201, `POST /api/sessions: ${res.status} ${body}\n${log}`);
      const session = JSON.parse(body) as { path: string; kernel: { id: string; name: string } };
      assert.equal(session.kernel.name, KERNEL_NAME);
      assert.equal(session.path, nbPath);
      // The kernel process runs tslab with the connection file Jupyter made for this kernel id.
      let pid = 0;
      for (let i = 0; i < 50 && !pid; i++) {
        await new Promise((r) => setTimeout(r, 200));
        pid = tslabPid(session.kernel.id);
      }
      assert.ok(pid, `no tslab process for kernel ${session.kernel.id}`);
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(
        env.includes(`JPY_SESSION_NAME=${nbPath}`),
        `the kernel's JPY_SESSION_NAME: ${env.find((e) => e.startsWith('JPY_SESSION_NAME=')) ?? '(unset)'}`,
      );
      assert.doesNotMatch(log, /was never awaited|ProgrammingError/);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  },
);
