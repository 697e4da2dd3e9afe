// Error messages only suggest what a user can do: a function named in a message of lib/ is one a
// notebook can call (exported by lib/index.ts), an `npm run` script exists in package.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nb from '../../lib/index';

const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The text of every `new Error(...)` message in `source`: its literals, `${…}` parts removed. */
function errorMessages(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(
    /new (?:\w*Error)\(\s*((?:(?:`[^`]*`|'[^'\n]*'|"[^"\n]*")\s*\+?\s*)+)/g,
  )) {
    out.push(m[1].replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, '…'));
  }
  return out;
}

test('every function an error message of lib/ names is on nb, every npm script exists', () => {
  const exported = new Set(Object.keys(nb));
  const libFunctions = new Set<string>();
  const files = tsFiles(LIB);
  for (const f of files)
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/export (?:async )?function (\w+)/g))
      libFunctions.add(m[1]);
  const scripts = Object.keys(
    (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: object })
      .scripts,
  );
  const wrong: string[] = [];
  for (const f of files) {
    for (const msg of errorMessages(fs.readFileSync(f, 'utf8'))) {
      // "name: …" at the start says which function failed; it suggests nothing.
      const body = msg.replace(/^[`'"]\w+:/, '');
      // A lib function named in prose or called (an object key, `{ topKAccuracy, … }`, is data).
      for (const [, name] of body.matchAll(/(?<![.\w'"])([a-z]+[A-Z]\w*)\b(?![,:}?])/g)) {
        if (libFunctions.has(name) && !exported.has(name))
          wrong.push(
            `${path.relative(ROOT, f)}: names ${name}, which lib/index.ts does not export`,
          );
      }
      for (const [, script] of body.matchAll(/npm run ([\w:-]+)/g)) {
        if (!scripts.includes(script))
          wrong.push(`${path.relative(ROOT, f)}: names npm run ${script}, not in package.json`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
