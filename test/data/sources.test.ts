import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GTSRB40, skipUnless, tmpDir } from '../helpers';

// CACHE_DIR is read from NB_CACHE_DIR when lib/config loads: point it at a temp folder first.
const cache = tmpDir('nb-cache-');
process.env.NB_CACHE_DIR = cache;
const load = () => import('../../lib/data/sources');
const small = { classes: 3, trainPerClass: 2, validPerClass: 1, testPerClass: 1, size: 32 };

test('without GTSRB_DIR / CARS_DIR, synthetic data in the same layouts is generated under the cache', async () => {
  const { gtsrbFolders, carsFolders } = await load();
  delete process.env.GTSRB_DIR;
  delete process.env.CARS_DIR;
  const g = await gtsrbFolders(small, { show: false });
  assert.equal(g.source, 'synthetic');
  assert.ok(g.root.startsWith(cache));
  assert.deepEqual(fs.readdirSync(g.trainDir).sort(), ['0', '1', '2']);
  assert.ok(fs.existsSync(g.testCsv!));
  const c = await carsFolders(small, { show: false });
  assert.equal(path.basename(c.validDir), 'validation');
  assert.equal(fs.readdirSync(c.trainDir).length, 3);
});

test(
  'GTSRB_DIR points at the real 40-per-class layout',
  { skip: skipUnless(GTSRB40) },
  async () => {
    const { gtsrbFolders } = await load();
    process.env.GTSRB_DIR = GTSRB40;
    try {
      const g = await gtsrbFolders(small, { show: false });
      assert.equal(g.source, 'real');
      assert.equal(g.testCsv, path.join(GTSRB40, 'Test.csv'));
      assert.equal(fs.readdirSync(g.trainDir).length, 43);
    } finally {
      delete process.env.GTSRB_DIR;
    }
  },
);

test('a data folder without the expected layout fails naming the path and the fix', async () => {
  const { gtsrbFolders, carsFolders } = await load();
  process.env.GTSRB_DIR = cache;
  process.env.CARS_DIR = path.join(cache, 'nope');
  try {
    await assert.rejects(
      gtsrbFolders(small, { show: false }),
      /GTSRB training folder not found: .*Train\. Point GTSRB_DIR at/,
    );
    await assert.rejects(
      carsFolders(small, { show: false }),
      /Stanford Cars training folder not found: .*nope[\\/]train\. .*npm run prepare-cars/,
    );
  } finally {
    delete process.env.GTSRB_DIR;
    delete process.env.CARS_DIR;
  }
});
