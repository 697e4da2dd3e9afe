import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tslabDiagnostics } from '../../scripts/platform/tslab-check';
import { ROOT } from '../helpers';

test("the library compiles under tslab's own TypeScript and options (what a notebook cell sees)", () => {
  const diags = tslabDiagnostics(path.join(ROOT, 'lib', 'index.ts'));
  assert.deepEqual(diags, []);
});
