// Clean commits: with the project's git clean filter (scripts/platform/nbstrip.cjs, named in
// .gitattributes, registered by `npm install`), a notebook Jupyter saved with outputs leaves
// `git diff` and `git status` clean, and a real edit still shows, without outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findJupyterPython, ROOT } from '../../scripts/platform/jupyter';

const FILTER = path.join(ROOT, 'scripts', 'platform', 'nbstrip.cjs');
const NOTEBOOKS = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb'));
const python = findJupyterPython();

function run(cmd: string, args: string[], cwd: string, input?: string) {
  const r = spawnSync(cmd, args, { cwd, input, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Save `file` the way the Notebook server does after a run (nbformat.write): outputs of each kind,
 * execution counts, the UI's cell metadata and the kernel's language_info.
 */
const ADD_OUTPUTS = `
import sys, nbformat
from nbformat.v4 import new_output
nb = nbformat.read(sys.argv[1], as_version=4)
for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
    cell.execution_count = i + 1
    cell.metadata["scrolled"] = True
    cell.outputs = [
        new_output("stream", name="stdout", text="Epoch 1/3 · loss 1.46\\n"),
        new_output("display_data", data={"image/svg+xml": "<svg></svg>", "text/plain": "chart"}),
        new_output("error", ename="Error", evalue="boom", traceback=["Error: boom"]),
    ]
nb.metadata.language_info.update(version="5.0.4", codemirror_mode={"mode": "typescript"})
nbformat.write(nb, sys.argv[1])
`;

test('every committed notebook is what the filter stores (no spurious modifications)', () => {
  for (const name of NOTEBOOKS) {
    const file = path.join(ROOT, 'notebooks', name);
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(run('node', [FILTER], ROOT, text), text, `notebooks/${name}`);
  }
});

test(
  'a notebook saved with outputs leaves git diff clean once the filter is installed; edits still show',
  { skip: python ? false : 'Jupyter (nbformat) is not installed (run `npm run setup`)' },
  () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'nbstrip-'));
    try {
      fs.mkdirSync(path.join(repo, 'scripts', 'platform'), { recursive: true });
      fs.mkdirSync(path.join(repo, 'notebooks'));
      fs.copyFileSync(FILTER, path.join(repo, 'scripts', 'platform', 'nbstrip.cjs'));
      fs.copyFileSync(path.join(ROOT, '.gitattributes'), path.join(repo, '.gitattributes'));
      const nb = path.join(repo, 'notebooks', NOTEBOOKS[0]);
      fs.copyFileSync(path.join(ROOT, 'notebooks', NOTEBOOKS[0]), nb);
      run('git', ['init', '-q'], repo);
      const git = (...args: string[]) =>
        run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], repo);
      git('add', '.');
      git('commit', '-qm', 'clean notebook');

      // Without the filter registered (a clone before `npm install`): outputs show in git diff.
      run(python!, ['-c', ADD_OUTPUTS, nb], repo);
      assert.match(git('diff'), /Epoch 1\/3/, 'control: outputs show without the filter');

      const installed = run('node', ['scripts/platform/nbstrip.cjs', '--install'], repo);
      assert.match(installed, /notebook-outputs/);
      assert.match(git('config', '--local', 'filter.notebook-outputs.clean'), /nbstrip\.cjs/);
      assert.equal(git('diff', '--stat'), '', 'outputs must not show in git diff');
      // git status lists the file (its size changed, and git trusts a size change without reading
      // the file, as with nbstripout), but adding it stages nothing: nothing to commit.
      git('add', '-A');
      assert.equal(git('diff', '--cached', '--stat'), '', 'adding the run notebook stages nothing');
      assert.equal(git('status', '--porcelain'), '', 'git status is clean after git add');
      // git runs the filter from the top of the working tree, also when called in a subfolder.
      assert.equal(run('git', ['diff', '--stat'], path.join(repo, 'notebooks')), '');
      assert.match(fs.readFileSync(nb, 'utf8'), /Epoch 1\/3/, 'the file on disk keeps its outputs');

      // A real edit (a new cell) shows, and what gets committed has no outputs.
      run(
        python!,
        [
          '-c',
          'import sys, nbformat; nb = nbformat.read(sys.argv[1], 4); ' +
            'nb.cells.append(nbformat.v4.new_code_cell("2 + 2")); nbformat.write(nb, sys.argv[1])',
          nb,
        ],
        repo,
      );
      const diff = git('diff');
      assert.match(diff, /2 \+ 2/);
      assert.doesNotMatch(diff, /Epoch 1\/3|svg|execution_count": \d/);
      git('commit', '-qam', 'a new cell');
      const stored = git('show', `HEAD:notebooks/${NOTEBOOKS[0]}`);
      assert.doesNotMatch(stored, /Epoch 1\/3/);
      assert.equal(run('node', [FILTER], repo, stored), stored, 'stored text is a fixed point');
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  },
);
