// Downloads against a local HTTP server on 127.0.0.1: md5 check, Range resume, atomic placement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { downloadFile } from '../../lib/io/download';
import { getKerasWeights, kerasWeightsLocation } from '../../lib/models/weights';
import { architecture } from '../../lib/models/architectures';
import { tmpDir } from '../helpers';
import { closedPort } from './ports';

const body = crypto.randomBytes(300_000);
const md5 = crypto.createHash('md5').update(body).digest('hex');
const seenRanges: (string | undefined)[] = [];
let server: http.Server;
let base = '';

before(async () => {
  server = http.createServer((req, res) => {
    seenRanges.push(req.headers.range);
    const url = req.url ?? '';
    if (url === '/missing') {
      res.writeHead(404).end();
      return;
    }
    // '/cut': sends the first 100 kB of a full response, then drops the connection.
    if (url === '/cut') {
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, 100_000), () => res.destroy());
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && url !== '/norange') {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Length': body.length - start,
        'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.part'));

test('downloads, checks md5 and places the file atomically (no .part left)', async () => {
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'models', 'w.h5');
  const progress: number[] = [];
  await downloadFile(`${base}/file`, dest, {
    md5,
    quiet: true,
    onProgress: (r) => progress.push(r),
  });
  assert.ok(fs.readFileSync(dest).equals(body));
  assert.deepEqual(leftovers(path.dirname(dest)), []);
  assert.equal(progress[progress.length - 1], body.length);
});

test('resumes a partial download with an HTTP Range request', async () => {
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'w.h5');
  fs.writeFileSync(`${dest}.part`, body.subarray(0, 123_456));
  seenRanges.length = 0;
  await downloadFile(`${base}/file`, dest, { md5, quiet: true });
  assert.deepEqual(seenRanges, ['bytes=123456-']);
  assert.ok(fs.readFileSync(dest).equals(body));
  assert.deepEqual(leftovers(dir), []);
});

test('a complete .part (server answers 416) is verified and placed', async () => {
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'w.h5');
  fs.writeFileSync(`${dest}.part`, body);
  await downloadFile(`${base}/file`, dest, { md5, quiet: true });
  assert.ok(fs.readFileSync(dest).equals(body));
});

test('a server that ignores Range gets a fresh full download', async () => {
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'w.h5');
  fs.writeFileSync(`${dest}.part`, Buffer.from('garbage that must not stay at the start'));
  await downloadFile(`${base}/norange`, dest, { md5, quiet: true });
  assert.ok(fs.readFileSync(dest).equals(body));
});

test('md5 mismatch: error names expected and actual hashes; nothing is placed or kept', async () => {
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'w.h5');
  const wrong = '0'.repeat(32);
  await assert.rejects(
    downloadFile(`${base}/file`, dest, { md5: wrong, quiet: true }),
    (e: Error) =>
      e.message.includes(wrong) && e.message.includes(md5) && e.message.includes(`${base}/file`),
  );
  assert.equal(fs.existsSync(dest), false);
  assert.deepEqual(leftovers(dir), []);
});

test('an interrupted download keeps its .part and the next call resumes it', async () => {
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'w.h5');
  await assert.rejects(downloadFile(`${base}/cut`, dest, { md5, quiet: true }), /resume/);
  assert.equal(fs.existsSync(dest), false);
  const partSize = fs.statSync(`${dest}.part`).size;
  assert.ok(partSize > 0 && partSize < body.length, `partial size ${partSize}`);
  seenRanges.length = 0;
  await downloadFile(`${base}/file`, dest, { md5, quiet: true });
  assert.deepEqual(seenRanges, [`bytes=${partSize}-`]);
  assert.ok(fs.readFileSync(dest).equals(body));
});

test('outside a terminal and a notebook, progress is plain text lines ending at 100%', async (t) => {
  const dest = path.join(tmpDir('dl-'), 'w.h5');
  const lines: string[] = [];
  t.mock.method(console, 'log', (s: string) => {
    lines.push(s);
  });
  await downloadFile(`${base}/file`, dest, { md5 });
  t.mock.restoreAll();
  assert.match(lines[0], /^Downloading w\.h5: \d+% \(0\.\d\/0\.3 MB\)$/);
  assert.equal(lines[lines.length - 1], 'Downloading w.h5: 100% (0.3/0.3 MB)');
});

test('HTTP errors name the URL', async () => {
  const dest = path.join(tmpDir('dl-'), 'w.h5');
  await assert.rejects(
    downloadFile(`${base}/missing`, dest, { quiet: true }),
    (e: Error) => e.message.includes(`${base}/missing`) && /404/.test(e.message),
  );
});

test('getKerasWeights: Keras cache layout under KERAS_HOME, and the offline error says where to copy the file', async () => {
  const home = tmpDir('keras-home-');
  const old = process.env.KERAS_HOME;
  process.env.KERAS_HOME = home;
  try {
    const loc = kerasWeightsLocation(architecture('inceptionv3'), false);
    assert.equal(
      loc.path,
      path.join(home, 'models', 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5'),
    );
    assert.equal(
      loc.url,
      'https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
    );
    assert.equal(loc.md5, 'bcbd6486424b2319ff4ef7d526e38f63');
    // Our server serves bytes whose md5 is not Keras' published one: rejected, nothing cached.
    await assert.rejects(
      getKerasWeights(architecture('resnet50'), false, { baseUrl: `${base}/`, quiet: true }),
      (e: Error) =>
        e.message.includes('4d473c1dd8becc155b73f8504c6f6626') &&
        e.message.includes(path.join(home, 'models')),
    );
    assert.deepEqual(fs.readdirSync(path.join(home, 'models')), []);
    // Offline (connection refused): names file, URL and destination.
    const offline = `http://127.0.0.1:${await closedPort()}/`;
    await assert.rejects(
      getKerasWeights(architecture('vgg16'), true, { baseUrl: offline, quiet: true }),
      (e: Error) =>
        /ECONNREFUSED/.test(e.message) &&
        e.message.includes('vgg16_weights_tf_dim_ordering_tf_kernels.h5') &&
        e.message.includes(`${offline}vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5`) &&
        e.message.includes(
          path.join(home, 'models', 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'),
        ),
    );
  } finally {
    if (old === undefined) delete process.env.KERAS_HOME;
    else process.env.KERAS_HOME = old;
  }
});

test('getKerasWeights offline with a damaged cached file says "damaged", not "not cached" (also on the next run)', async () => {
  const home = tmpDir('keras-home-');
  const old = process.env.KERAS_HOME;
  process.env.KERAS_HOME = home;
  try {
    const loc = kerasWeightsLocation(architecture('vgg16'), false);
    fs.mkdirSync(path.dirname(loc.path), { recursive: true });
    fs.writeFileSync(loc.path, 'an interrupted copy');
    const offline = `http://127.0.0.1:${await closedPort()}/`;
    await assert.rejects(
      getKerasWeights(architecture('vgg16'), false, { baseUrl: offline, quiet: true }),
      (e: Error) =>
        /the cached copy is damaged \(md5 [0-9a-f]{32}, expected 6d6bbae143d832006294945121d1f1fc\)/.test(
          e.message,
        ) &&
        !/not cached/.test(e.message) &&
        /ECONNREFUSED/.test(e.message),
    );
    assert.ok(fs.existsSync(`${loc.path}.bad`), 'the damaged copy is kept aside');
    await assert.rejects(
      getKerasWeights(architecture('vgg16'), false, { baseUrl: offline, quiet: true }),
      (e: Error) =>
        e.message.includes(
          `vgg16 ImageNet weights: the cached copy is damaged (an earlier run found a wrong md5 and kept it as ${loc.path}.bad)`,
        ) && !/not cached/.test(e.message),
    );
  } finally {
    if (old === undefined) delete process.env.KERAS_HOME;
    else process.env.KERAS_HOME = old;
  }
});
