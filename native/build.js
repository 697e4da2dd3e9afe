#!/usr/bin/env node
// Builds the optional oneDNN addon (native/onednn.cc) during `npm install`.
// Never fails the install: without oneDNN's headers or on a build error it prints one line
// and exits 0, and the backend chooser falls back to wasm.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const HEADER = '/usr/include/dnnl.hpp';
const here = __dirname;
const say = (msg) => console.log(`[onednn] ${msg}`);

function nodeGyp() {
  // npm passes its bundled node-gyp to install scripts; outside npm look beside npm itself.
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((p) => p && fs.existsSync(p));
}

function main() {
  if (process.env.ONEDNN_SKIP_BUILD) return say('build skipped (ONEDNN_SKIP_BUILD is set); tfjs falls back to wasm.');
  if (!fs.existsSync(HEADER)) {
    return say(`not built: ${HEADER} is absent (apt-get install libdnnl-dev, then npm run build:native); tfjs falls back to wasm.`);
  }
  const gyp = nodeGyp();
  if (!gyp) return say('not built: node-gyp not found (it ships with npm); tfjs falls back to wasm.');
  const args = [gyp, 'rebuild'];
  // Debian's nodejs ships its headers under /usr/include/node: use them instead of downloading.
  const nodedir = process.env.npm_config_nodedir || (fs.existsSync('/usr/include/node/common.gypi') ? '/usr' : '');
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8' });
  if (r.status === 0 && fs.existsSync(path.join(here, 'build', 'Release', 'onednn.node'))) {
    return say('built native/build/Release/onednn.node (oneDNN backend available).');
  }
  const log = path.join(here, 'build-error.log');
  try { fs.writeFileSync(log, `${r.stdout || ''}\n${r.stderr || ''}\n${r.error || ''}`); } catch {}
  // The most telling line: a compiler error, else node-gyp's own reason, else any error line.
  const lines = `${r.stdout || ''}\n${r.stderr || ''}`.split('\n');
  const firstErr = lines.find((l) => /\berror:/.test(l)) || lines.find((l) => /gyp ERR! stack Error:/.test(l)) ||
    lines.find((l) => /ERR!|error/i.test(l)) || `${r.error || `exit ${r.status}`}`;
  say(`build failed (${firstErr.replace(/^gyp ERR! stack /, '').trim().slice(0, 160)}); details in native/build-error.log; tfjs falls back to wasm.`);
}

try { main(); } catch (e) { say(`build skipped (${e && e.message}); tfjs falls back to wasm.`); }
process.exit(0);
