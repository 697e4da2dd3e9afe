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
  'npm run notebook: token, POST /api/sessions starts the kernel with JPY_SESSION_NAME, an edited notebook reopens trusted',
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

      // Trusted after editing: the page saves a cell it inserted without an id (Notebook 6.4's
      // page does); reopened, the notebook's cells must be trusted, or its charts are hidden.
      const saved = path.join('build', `server-test-${process.pid}.ipynb`);
      fs.mkdirSync(path.join(ROOT, 'build'), { recursive: true });
      try {
        const svg = '<svg width="8" height="8"><circle cx="4" cy="4" r="3"/></svg>';
        const cell = (id?: string) => ({
          ...(id ? { id } : {}),
          cell_type: 'code',
          metadata: { trusted: true },
          source: 'nb.plotHistory(history)',
          execution_count: 1,
          outputs: [{ output_type: 'display_data', data: { 'image/svg+xml': svg }, metadata: {} }],
        });
        const content = {
          cells: [cell('c01'), cell()],
          metadata: {},
          nbformat: 4,
          nbformat_minor: 5,
        };
        const put = await fetch(`${base}/api/contents/${saved}?token=${token}`, {
          method: 'PUT',
          body: JSON.stringify({ type: 'notebook', content }),
        });
        assert.equal(put.status, 201, await put.text());
        const reopened = (await (
          await fetch(`${base}/api/contents/${saved}?token=${token}&content=1`)
        ).json()) as { content: { cells: { id: string; metadata: { trusted?: boolean } }[] } };
        assert.deepEqual(
          reopened.content.cells.map((c) => c.metadata.trusted),
          [true, true],
          `the saved notebook reopened untrusted:\n${log}`,
        );
        // The committed notebooks (no outputs) open trusted too: nothing in them to hide.
        const tutorial = (await (
          await fetch(`${base}/api/contents/${nbPath}?token=${token}&content=1`)
        ).json()) as {
          content: { cells: { cell_type: string; metadata: { trusted?: boolean } }[] };
        };
        for (const c of tutorial.content.cells.filter((c) => c.cell_type === 'code'))
          assert.equal(c.metadata.trusted, true, `${nbPath} opened untrusted`);
      } finally {
        fs.rmSync(path.join(ROOT, saved), { force: true });
      }
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  },
);
