// lib/io's atomic writer: every byte or an error, the previous file kept on any failure, errors
// that name the file and the fix, and leftovers of killed saves recognised and cleaned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  writeFileAtomic,
  writeAllSync,
  removeLeftovers,
  replaceAtomically,
} from '../../lib/io/atomic';
import { ioError } from '../../lib/io/errors';
import { saveCheckpoint, loadCheckpoint, loadCheckpointWeights } from '../../lib/train/checkpoint';
import { CSVLogger } from '../../lib/train/callbacks';
import { cachedFeatures } from '../../lib/train/cache';
import type { ImageDataset } from '../../lib/data/types';
import { seededModel } from './fixtures/save';
import { ROOT, tmpDir } from '../helpers';

const CHILD = path.join(__dirname, 'fixtures', 'save.ts');
// The module object itself (what lib/io calls through), so t.mock.method can replace its functions.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs: typeof fs = require('node:fs');

/** Run the save fixture with the file size limited to `kb` KiB (bash counts ulimit -f in 1024-byte blocks). */
function saveUnderLimit(kind: string, file: string, seed: number, kb: number) {
  // Node ignores SIGXFSZ, so a write past the limit returns a short count, then fails with EFBIG.
  const r = spawnSync(
    'bash',
    [
      '-c',
      `ulimit -f ${kb}; exec "$0" --import tsx "$@"`,
      process.execPath,
      CHILD,
      kind,
      file,
      String(seed),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

for (const [kind, name] of [
  ['ckpt', 'best.ckpt'],
  ['h5', 'best.weights.h5'],
  ['model', 'best.keras'],
] as const) {
  test(`full disk: a ${name} save that cannot write all bytes throws, naming the file, and the previous checkpoint still loads`, async () => {
    const file = path.join(tmpDir('disk-'), name);
    const good = seededModel(1);
    await saveCheckpoint(good, file, { weightsOnly: kind !== 'model' });
    const r = saveUnderLimit(kind, file, 2, 64); // the checkpoint is ~200 kB
    assert.equal(r.signal, null, `the child was killed by ${r.signal}`);
    assert.equal(r.status, 3, `the save must fail; stderr: ${r.stderr}`);
    assert.ok(r.stderr.includes(file), `the error names the file: ${r.stderr}`);
    assert.match(r.stderr, /EFBIG|disk is full|larger than/);
    const back = seededModel(5);
    if (kind === 'model') {
      const loaded = await loadCheckpoint(file);
      assert.deepEqual(weightsOf(loaded), weightsOf(good));
    } else {
      await loadCheckpointWeights(back, file);
      assert.deepEqual(weightsOf(back), weightsOf(good));
    }
    assert.deepEqual(
      fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith('.')),
      [],
      'no temp files left',
    );
  });
}

test('full disk: CSVLogger says which file and what to do, and keeps the rows written so far', () => {
  const file = path.join(tmpDir('disk-'), 'log.csv');
  const rows = Array.from({ length: 4000 }, (_, i) => `${i},0.123456789`).join('\n');
  fs.writeFileSync(file, `epoch,loss\n${rows}\n`); // ~60 kB: one more row crosses 60 KiB
  const before = fs.readFileSync(file, 'utf8');
  const r = saveUnderLimit('csv', file, 4000, 60);
  assert.equal(r.status, 3, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `Could not write ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(free some space|ulimit)`,
    ),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), before);
});

test('full disk during a download: the error names the partial file and the fix; nothing is placed', async () => {
  const body = Buffer.alloc(300_000, 7);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/w.h5`;
  const dest = path.join(tmpDir('disk-dl-'), 'w.h5');
  try {
    // spawn, not spawnSync: this process must keep serving while the child downloads.
    const child = spawn(
      'bash',
      [
        '-c',
        `ulimit -f 64; exec "$0" --import tsx "$@"`,
        process.execPath,
        CHILD,
        'download',
        dest,
        url,
      ],
      { cwd: ROOT },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(status, 3, stderr);
    assert.match(
      stderr,
      new RegExp(
        `Could not write ${dest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.part: the file is larger than this process may write`,
      ),
    );
    assert.equal(fs.existsSync(dest), false);
  } finally {
    server.close();
  }
});

test('writeAllSync loops over short writes until every byte is written', (t) => {
  const file = path.join(tmpDir('short-'), 'x.bin');
  const data = new Uint8Array(1000).map((_, i) => i % 251);
  const real = fs.writeSync;
  const calls: number[] = [];
  // A file system that takes at most 300 bytes per call (what a nearly full disk does).
  t.mock.method(nodeFs, 'writeSync', (fd: number, buf: Uint8Array, off: number, len: number) => {
    const n = real(fd, buf, off, Math.min(len, 300));
    calls.push(n);
    return n;
  });
  const fd = fs.openSync(file, 'w');
  writeAllSync(fd, data);
  fs.closeSync(fd);
  t.mock.restoreAll();
  assert.deepEqual(calls, [300, 300, 300, 100]);
  assert.deepEqual(new Uint8Array(fs.readFileSync(file)), data);
});

test('a write that makes no progress is an error, and the previous file is untouched', (t) => {
  const file = path.join(tmpDir('zero-'), 'x.txt');
  fs.writeFileSync(file, 'previous');
  t.mock.method(nodeFs, 'writeSync', () => 0);
  assert.throws(
    () => writeFileAtomic(file, 'new content'),
    (e: Error) => e.message.includes(file) && /disk is full/.test(e.message),
  );
  t.mock.restoreAll();
  assert.equal(fs.readFileSync(file, 'utf8'), 'previous');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['x.txt']);
});

test('EACCES, EROFS, EEXIST, ENOSPC: the message names the file, the cause and what to do', (t) => {
  const file = path.join(tmpDir('codes-'), 'sub', 'x.txt');
  for (const [code, advice] of [
    ['EACCES', /permission denied: make the folder writable/],
    ['EROFS', /read-only: choose a folder on a writable disk/],
    ['EEXIST', /already exists at that path: delete or rename it/],
    ['ENOSPC', /disk is full: free some space/],
  ] as const) {
    t.mock.method(nodeFs, 'openSync', () => {
      throw Object.assign(new Error(`${code}: raw`), { code });
    });
    assert.throws(
      () => writeFileAtomic(file, 'x'),
      (e: Error & { code?: string }) =>
        e.message.startsWith(`Could not write ${file}: `) &&
        advice.test(e.message) &&
        e.code === code &&
        e.message.includes(code),
    );
    t.mock.restoreAll();
  }
  assert.match(
    ioError(Object.assign(new Error('x'), { code: 'EPERM' }), '/a/b', 'read').message,
    /^Could not read \/a\/b: operation not permitted/,
  );
});

test('removeLeftovers deletes temp files of dead processes only', () => {
  const dir = tmpDir('left-');
  const file = path.join(dir, 'best.ckpt');
  fs.writeFileSync(file, 'x');
  const dead = path.join(dir, '.best.ckpt.tmp-99999999-abcd');
  const alive = path.join(dir, `.best.ckpt.tmp-${process.pid}-abcd`);
  const other = path.join(dir, '.other.tmp-99999999-abcd');
  for (const f of [dead, alive, other]) fs.writeFileSync(f, 'partial');
  assert.deepEqual(removeLeftovers(file), [dead]);
  assert.deepEqual(
    fs.readdirSync(dir).sort(),
    [path.basename(alive), path.basename(other), 'best.ckpt'].sort(),
  );
});

test('saveCheckpoint removes the temp file a killed save left', async () => {
  const dir = tmpDir('left-');
  const file = path.join(dir, 'best.ckpt');
  fs.writeFileSync(path.join(dir, '.best.ckpt.tmp-99999999-0000'), 'half a checkpoint');
  await saveCheckpoint(seededModel(1), file, { weightsOnly: true });
  assert.deepEqual(fs.readdirSync(dir), ['best.ckpt']);
});

test('replaceAtomically: when the new folder cannot be renamed in, the previous folder is put back', async (t) => {
  const parent = tmpDir('swap-');
  const dir = path.join(parent, 'ckpt');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'model.json'), 'previous');
  const real = nodeFs.renameSync;
  t.mock.method(nodeFs, 'renameSync', (from: string, to: string) => {
    if (path.basename(from).includes('.tmp-'))
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    return real(from, to);
  });
  await assert.rejects(
    replaceAtomically(dir, (tmp) => fs.writeFileSync(path.join(tmp, 'model.json'), 'new'), {
      directory: true,
    }),
    (e: Error) => e.message.startsWith(`Could not write ${dir}: permission denied`),
  );
  t.mock.restoreAll();
  assert.deepEqual(fs.readdirSync(parent), ['ckpt']);
  assert.equal(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'), 'previous');
});

test('CSVLogger and cachedFeatures remove the temp files a killed run left', async () => {
  const dir = tmpDir('left-');
  const csv = path.join(dir, 'log.csv');
  fs.writeFileSync(path.join(dir, '.log.csv.tmp-99999999-1a2b'), 'epoch,loss\n0,');
  const log = new CSVLogger(csv);
  log.onTrainBegin();
  assert.deepEqual(fs.readdirSync(dir), []);

  const input = tf.input({ shape: [4, 4, 3] });
  const pooled = tf.layers
    .globalAveragePooling2d({ name: 'gap' })
    .apply(input) as tf.SymbolicTensor;
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 2, name: 'head' }).apply(pooled) as tf.SymbolicTensor,
  });
  const files = ['a.png', 'b.png'];
  const dataset = {
    files,
    classNames: ['x', 'y'],
    labels: [0, 1],
    batchSize: 2,
    numBatches: 1,
    size: 2,
    imageSize: [4, 4],
    cacheKey: 'leftovers',
    augmented: false,
    load: async (idx: number[]) => ({
      xs: tf.zeros([idx.length, 4, 4, 3]),
      ys: null,
      labels: idx.map((i) => i % 2),
    }),
  };
  const root = path.join(dir, 'features');
  // Where this cache's files go: found by a first run, then a killed write is simulated there.
  await cachedFeatures(model, dataset as unknown as ImageDataset, { dir: root, layer: 'gap' });
  const [sub] = fs.readdirSync(root);
  const [data] = fs.readdirSync(path.join(root, sub));
  const leftover = path.join(root, sub, data, '.0123abcd.f32.tmp-99999999-ffff');
  fs.writeFileSync(leftover, 'partial');
  await cachedFeatures(model, dataset as unknown as ImageDataset, { dir: root, layer: 'gap' });
  assert.equal(fs.existsSync(leftover), false);
});
