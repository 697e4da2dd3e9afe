// No tracked file keeps a merge's conflict markers (one sat in environment.md for a round).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

test('no tracked text file contains merge conflict markers', () => {
  // git grep reads tracked files only; -I skips binary files; exit 1 means no match.
  let found = '';
  try {
    found = execFileSync('git', ['grep', '-I', '-n', '-E', '^(<{7}|>{7})( |$)'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e;
  }
  assert.equal(found, '', `resolve these merge leftovers:\n${found}`);
});
