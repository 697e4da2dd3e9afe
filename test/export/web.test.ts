// exportForWeb: custom layers folded into standard ones (same outputs), the files a browser needs,
// and the page itself in headless Chromium: its top-1 for a test image equals predictImage's.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { exportForWeb, preprocessAsConv } from '../../lib/export/web';
import { predictImage } from '../../lib/charts/predict-image';
import { setExifTranspose } from '../../lib/data/decode';
import { preprocessInput } from '../../lib/data/preprocess';
import { withPreprocessing } from '../../lib/models/with-preprocessing';
import { buildHead } from '../../lib/train/heads';
import { tinyBase, setDeterministicWeights } from '../train/fake-dataset';
import { tmpDir } from '../helpers';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((f) => fs.existsSync(f));
const CLASSES = ['stop', 'yield', 'priority road', 'no entry', 'speed limit <50>', 'roundabout'];
const SIZE: [number, number] = [24, 24];

before(async () => {
  await tf.setBackend('cpu');
});

/** A small classifier with the project's custom layers: preprocess_input inside, Keras batch norm (scale=false). */
function classifier(opts: { preprocessingLayer: 'caffe' | 'tf' | null }): tf.LayersModel {
  const base = tinyBase({ size: SIZE, batchNorm: 'keras' });
  const withPre = opts.preprocessingLayer ? withPreprocessing(base, opts.preprocessingLayer) : base;
  const model = buildHead(withPre, [
    { type: 'globalAveragePooling' },
    { type: 'batchNormalization' },
    { type: 'output', classes: CLASSES.length },
  ]);
  setDeterministicWeights(model, 17);
  // Spread the outputs so the classes are well apart.
  const out = model.layers[model.layers.length - 1];
  tf.tidy(() => out.setWeights(out.getWeights().map((w) => w.mul(8))));
  return model;
}

/** A test image that is not the model's size (so the page must resize like the notebook). */
async function testImage(file: string): Promise<void> {
  const [w, h] = [53, 41];
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++)
    px[i] = Math.round(127.5 + 127.5 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(file);
}

test('preprocess_input as a 1x1 convolution equals preprocessInput for every mode', () => {
  const x = tf.randomUniform([2, 5, 4, 3], 0, 255, 'float32', 3);
  for (const mode of ['caffe', 'tf', 'torch'] as const) {
    const { kernel, bias } = preprocessAsConv(mode);
    const conv = tf.add(
      tf.conv2d(x as tf.Tensor4D, tf.tensor4d(kernel, [1, 1, 3, 3]), 1, 'valid'),
      tf.tensor1d(bias),
    );
    const diff = tf.max(tf.abs(tf.sub(conv, preprocessInput(x, mode)))).dataSync()[0];
    assert.ok(diff < 1e-4, `${mode}: ${diff}`);
  }
});

test('exportForWeb writes a standard tfjs model (no custom layers) that predicts like the original', async () => {
  const model = classifier({ preprocessingLayer: 'caffe' });
  const dir = tmpDir('web-export-');
  const r = await exportForWeb(model, dir, {
    classNames: CLASSES,
    preprocessing: 'none',
    title: 'Signs <test>',
  });
  assert.deepEqual(r.files.sort(), ['index.html', 'model.json', 'tf.min.js', 'weights.bin']);
  for (const f of r.files) assert.ok(fs.statSync(path.join(dir, f)).size > 0, f);
  assert.ok(r.folded.some((f) => /PreprocessInput\('caffe'\) -> Conv2D/.test(f)));
  assert.ok(
    r.folded.some((f) => /block1_bn: KerasBatchNormalization -> BatchNormalization/.test(f)),
  );
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const topology = JSON.stringify(json.modelTopology);
  assert.doesNotMatch(topology, /KerasBatchNormalization|PreprocessInput/);
  assert.deepEqual(json.userDefinedMetadata.classNames, CLASSES);
  // Load the files as a browser would (standard classes only) and compare.
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  const reloaded = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  assert.ok(
    !reloaded.layers.some(
      (l) =>
        l.getClassName() === 'KerasBatchNormalization' || l.getClassName() === 'PreprocessInput',
    ),
  );
  const x = tf.randomUniform([3, ...SIZE, 3], 0, 255, 'float32', 5);
  const diff = tf
    .max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor)))
    .dataSync()[0];
  assert.ok(diff < 1e-5, `difference ${diff}`);
  assert.ok(r.maxDifference < 1e-5);
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  assert.match(html, /<script src="tf.min.js"><\/script>/);
  assert.doesNotMatch(html, /https?:\/\/(?!127)/, 'no CDN or other network address');
  assert.match(html, /Signs &lt;test&gt;/);
  assert.match(html, /speed limit \\u003c50>/, 'class names are escaped inside the script');
});

test('exportForWeb explains bad input', async () => {
  const model = classifier({ preprocessingLayer: null });
  const dir = tmpDir('web-export-bad-');
  await assert.rejects(
    exportForWeb(model, dir, { classNames: ['a', 'b'], preprocessing: 'none' }),
    /outputs 6 classes; pass classNames/,
  );
  await assert.rejects(
    exportForWeb(model, dir, { classNames: CLASSES } as never),
    /pass preprocessing/,
  );
  await assert.rejects(
    exportForWeb(model, dir, { classNames: CLASSES, preprocessing: 'rgb' }),
    /unknown mode "rgb"/,
  );
  await assert.rejects(
    exportForWeb(model, dir, {
      classNames: CLASSES,
      preprocessing: { mode: 'tf', interpolation: 'bicubic' as never },
    }),
    /'bilinear' or 'nearest'/,
  );
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
});

/** Serve `dir` on 127.0.0.1; POST /report resolves `report`. */
async function serve(
  dir: string,
): Promise<{ url: string; report: Promise<unknown>; close: () => void }> {
  let resolve!: (v: unknown) => void;
  const report = new Promise((r) => (resolve = r));
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.json': 'application/json',
    '.bin': 'application/octet-stream',
    '.png': 'image/png',
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname === '/report') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.end('ok');
        resolve(JSON.parse(body));
      });
      return;
    }
    const file = path.join(
      dir,
      path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '') || 'index.html',
    );
    if (!file.startsWith(dir) || !fs.existsSync(file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-type', types[path.extname(file)] ?? 'application/octet-stream');
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, report, close: () => server.close() };
}

/** Open the page in headless Chromium and wait for the result it reports. */
async function pageResult(
  dir: string,
  image: string,
): Promise<{
  top: { className: string; probability: number }[];
  probabilities: number[];
  backend: string;
  error?: string;
}> {
  const site = await serve(dir);
  const profile = tmpDir('chromium-profile-');
  const page = `${site.url}/index.html?image=${encodeURIComponent(image)}&backend=cpu&report=/report`;
  const browser = spawn(
    CHROMIUM!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      page,
    ],
    { stdio: 'ignore', detached: true },
  );
  try {
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no result from ${page} within 90 s`)), 90_000).unref(),
    );
    return (await Promise.race([site.report, timeout])) as Awaited<ReturnType<typeof pageResult>>;
  } finally {
    const exited = new Promise((r) => {
      browser.once('exit', r);
      setTimeout(r, 5000).unref();
    });
    try {
      process.kill(-browser.pid!, 'SIGTERM'); // the browser we started, and its child processes
    } catch {
      /* already gone */
    }
    await exited;
    site.close();
  }
}

for (const variant of [
  {
    name: 'preprocessing inside the model',
    layer: 'caffe' as const,
    preprocessing: 'none' as const,
  },
  { name: 'preprocessing in the page (tf mode)', layer: null, preprocessing: 'tf' as const },
]) {
  test(
    `in headless Chromium the page's top-1 equals predictImage's (${variant.name})`,
    { skip: CHROMIUM ? false : 'needs Chromium (/usr/bin/chromium)', timeout: 120_000 },
    async () => {
      const model = classifier({ preprocessingLayer: variant.layer });
      const dir = tmpDir('web-page-');
      await exportForWeb(model, dir, { classNames: CLASSES, preprocessing: variant.preprocessing });
      const image = path.join(dir, 'test-image.png');
      await testImage(image);
      const expected = await predictImage(model, image, {
        classNames: CLASSES,
        preprocess: variant.preprocessing,
        show: false,
      });
      const got = await pageResult(dir, 'test-image.png');
      assert.equal(got.error, undefined);
      assert.equal(got.backend, 'cpu');
      assert.equal(got.top.length, 5);
      assert.equal(got.top[0].className, expected.top[0].className);
      got.top.forEach((t, i) => {
        assert.equal(t.className, expected.top[i].className);
        assert.ok(
          Math.abs(t.probability - expected.top[i].probability) < 1e-4,
          `${t.className}: ${t.probability} vs ${expected.top[i].probability}`,
        );
      });
      // The comparison can fail: other preprocessing gives other probabilities.
      const other = await predictImage(model, image, {
        classNames: CLASSES,
        preprocess: variant.preprocessing === 'none' ? 'tf' : 'caffe',
        show: false,
      });
      assert.ok(
        other.top.some((t, i) => Math.abs(t.probability - got.top[i].probability) > 1e-3),
        'the model is sensitive to preprocessing',
      );
    },
  );
}

test(
  'in headless Chromium a photo with an EXIF rotation is classified from its stored pixels, as predictImage and Keras do (or turned, with exifTranspose)',
  { skip: CHROMIUM ? false : 'needs Chromium (/usr/bin/chromium)', timeout: 240_000 },
  async () => {
    // Flatten keeps where things are, so a turned image gives other probabilities.
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [...SIZE, 3],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: CLASSES.length, activation: 'softmax' }),
      ],
    });
    setDeterministicWeights(model, 5);
    const dir = tmpDir('web-exif-');
    const png = path.join(dir, 'pattern.png');
    await testImage(png);
    // The same asymmetric pattern as a JPEG whose EXIF says "turn 90° clockwise".
    await sharp(png)
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(path.join(dir, 'photo.jpg'));
    for (const exifTranspose of [false, true]) {
      await exportForWeb(model, dir, { classNames: CLASSES, preprocessing: 'tf', exifTranspose });
      setExifTranspose(exifTranspose);
      let expected: Awaited<ReturnType<typeof predictImage>>;
      try {
        expected = await predictImage(model, path.join(dir, 'photo.jpg'), {
          classNames: CLASSES,
          preprocess: 'tf',
          show: false,
        });
      } finally {
        setExifTranspose(false);
      }
      const got = await pageResult(dir, 'photo.jpg');
      assert.equal(got.error, undefined);
      got.top.forEach((t, i) => {
        assert.equal(t.className, expected.top[i].className);
        assert.ok(
          Math.abs(t.probability - expected.top[i].probability) < 2e-3,
          `exifTranspose ${exifTranspose}, ${t.className}: ${t.probability} vs ${expected.top[i].probability}`,
        );
      });
    }
    // The two policies give different inputs, so the comparison above can fail.
    const stored = await predictImage(model, path.join(dir, 'photo.jpg'), {
      classNames: CLASSES,
      preprocess: 'tf',
      show: false,
    });
    setExifTranspose(true);
    const turned = await predictImage(model, path.join(dir, 'photo.jpg'), {
      classNames: CLASSES,
      preprocess: 'tf',
      show: false,
    }).finally(() => setExifTranspose(false));
    assert.ok(
      stored.top.some((t, i) => Math.abs(t.probability - turned.top[i].probability) > 1e-2),
      'the model sees the difference',
    );
  },
);
