#!/usr/bin/env node
// Git clean filter for notebooks (the job nbstripout does for Python projects, without a Python
// dependency): what git stores and diffs is the notebook without outputs, so running or autosaving
// a notebook in the browser leaves `git diff` clean while the file on disk keeps its outputs.
//
//   node scripts/platform/nbstrip.cjs < in.ipynb > out.ipynb   the filter (git runs it so)
//   node scripts/platform/nbstrip.cjs --install                 register it in this clone's .git/config
//
// Plain CommonJS without dependencies: git runs it for every changed notebook on `git status`,
// `git diff` and `git add`, so it must start fast and work before `npm install` finished.
// `.gitattributes` names the filter (`*.ipynb filter=notebook-outputs`); `npm install` (prepare)
// and `npm run setup` run --install.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const FILTER = 'notebook-outputs';

/** Cell metadata the Notebook UI writes while a user works (not part of the lesson). */
const CELL_UI_KEYS = ['collapsed', 'scrolled', 'execution', 'ExecuteTime', 'jupyter'];
/** language_info fields the kernel adds on every run (tslab's TypeScript version, editor mode). */
const KERNEL_RUN_KEYS = ['version', 'codemirror_mode', 'pygments_lexer', 'nbconvert_exporter'];

/** Keys sorted at every level, as Jupyter writes notebooks (nbformat: sort_keys=True). */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

/** The notebook's text without outputs, execution counts or per-run metadata, in Jupyter's layout. */
function stripNotebook(text) {
  const nb = JSON.parse(text);
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
    if (cell.metadata) for (const k of CELL_UI_KEYS) delete cell.metadata[k];
  }
  const meta = nb.metadata ?? {};
  delete meta.widgets;
  delete meta.signature;
  if (meta.language_info) for (const k of KERNEL_RUN_KEYS) delete meta.language_info[k];
  // nbformat writes one-space indents, non-ASCII as is, and a final newline.
  return `${JSON.stringify(sortKeys(nb), null, 1)}\n`;
}

function git(args, cwd) {
  return spawnSync('git', args, { cwd, encoding: 'utf8' });
}

/**
 * Register the filter in the git repository that holds `root` (its .git/config, never the user's
 * global config). Returns one line for the log; never throws (an install from a tarball has no git).
 */
function install(root = path.resolve(__dirname, '..', '..')) {
  const top = git(['rev-parse', '--show-toplevel'], root);
  if (top.error || top.status !== 0) return `git filter ${FILTER}: not a git clone, nothing to do`;
  // git runs filters from the top of the working tree: the script's path relative to it.
  const script = path.relative(top.stdout.trim(), __filename).split(path.sep).join('/');
  const settings = [
    [`filter.${FILTER}.clean`, `node ${script}`],
    // No smudge: a checkout writes the stored (output-free) notebook as it is.
    [`filter.${FILTER}.smudge`, 'cat'],
  ];
  for (const [key, value] of settings) {
    const r = git(['config', '--local', key, value], root);
    if (r.status !== 0) return `git filter ${FILTER}: could not set ${key}: ${r.stderr.trim()}`;
  }
  return `git filter ${FILTER}: notebooks are committed without outputs (.gitattributes, .git/config)`;
}

module.exports = { stripNotebook, install, FILTER };

if (require.main === module) {
  if (process.argv.includes('--install')) {
    console.log(install());
  } else {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let out;
      try {
        out = stripNotebook(text);
      } catch (e) {
        // Not valid JSON (a merge conflict, a half-written file): store it as it is, say why.
        process.stderr.write(`nbstrip: ${e.message}; stored unchanged\n`);
        out = text;
      }
      process.stdout.write(out);
    });
  }
}
