// Folder and CSV datasets: class order, labels, batching, splits, errors, formats, tensor hygiene.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { imageDatasetFromDirectory, flowFromDirectory } from '../../lib/data/directory';
import { datasetFromCsv } from '../../lib/data/csv';
import { ImageDataGenerator } from '../../lib/data/augment';
import { decodeImageFile, resizeRgb } from '../../lib/data/decode';
import type { Batch, ImageDataset } from '../../lib/data/types';
import { tmpDir } from '../helpers';
import { colourOf, makeClassTree, writePpm, writeSolid } from './fixtures';

const quiet = { verbose: false } as const;
let root: string;

before(async () => {
  await tf.setBackend('cpu');
  root = tmpDir('data-');
  await makeClassTree(path.join(root, 'tree'));
});

async function collect(
  ds: ImageDataset,
  epoch = 0,
): Promise<{ labels: number[]; indices: number[]; shapes: number[][] }> {
  const out = { labels: [] as number[], indices: [] as number[], shapes: [] as number[][] };
  for await (const b of ds.batches({ epoch })) {
    out.labels.push(...b.labels);
    out.indices.push(...b.indices);
    out.shapes.push(b.xs.shape);
    dispose(b);
  }
  return out;
}
const dispose = (b: Batch) => {
  b.xs.dispose();
  b.ys?.dispose();
};

test('classes are sub-folder names sorted as strings; non-image files are ignored', () => {
  const ds = imageDatasetFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    imageSize: [4, 4],
    seed: 1,
  });
  assert.deepEqual(ds.classNames, ['0', '1', '10', '2']);
  assert.equal(ds.size, 12);
  assert.equal(ds.numBatches, 1);
  assert.ok(ds.files.every((f) => f.endsWith('.png') && path.isAbsolute(f)));
  assert.deepEqual(ds.labels.filter((l) => l === 2).length, 3);
  assert.ok(ds.files[ds.labels.indexOf(2)].includes(`${path.sep}10${path.sep}`));
});

test('batches: shapes, int labels match pixels, every file once per epoch, no leaked tensors', async () => {
  const ds = imageDatasetFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    imageSize: [4, 5],
    batchSize: 5,
    seed: 3,
  });
  const start = tf.memory().numTensors;
  const seen: number[] = [];
  for await (const b of ds.batches({ epoch: 0 })) {
    assert.deepEqual(b.xs.shape.slice(1), [4, 5, 3]);
    assert.equal(b.ys!.dtype, 'int32');
    assert.deepEqual(Array.from(await b.ys!.data()), b.labels);
    const corner = b.xs.slice([0, 0, 0, 0], [b.labels.length, 1, 1, 3]);
    const px = await corner.data();
    corner.dispose();
    b.labels.forEach((l, k) =>
      assert.deepEqual(Array.from(px.slice(3 * k, 3 * k + 3)), colourOf(Number(ds.classNames[l]))),
    );
    assert.deepEqual(
      b.labels,
      b.indices.map((i) => ds.labels[i]),
    );
    seen.push(...b.indices);
    dispose(b);
  }
  assert.deepEqual(
    seen.slice().sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, i) => i),
  );
  assert.equal(tf.memory().numTensors, start);
});

test('a readonly size from an `as const` config is accepted (no cast) and copied, and a wrong size is an error', async () => {
  const cfg = { imageSize: [4, 5] } as const;
  const ds = imageDatasetFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    imageSize: cfg.imageSize,
    shuffle: false,
  });
  const flow = flowFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    targetSize: cfg.imageSize,
    shuffle: false,
  });
  assert.deepEqual(
    [ds.imageSize, flow.imageSize],
    [
      [4, 5],
      [4, 5],
    ],
  );
  assert.notEqual(ds.imageSize, cfg.imageSize as unknown);
  const b = await ds.load([0]);
  assert.deepEqual(b.xs.shape, [1, 4, 5, 3]);
  tf.dispose([b.xs, b.ys ?? []].flat());
  const bad = [4, 5, 6] as unknown as [number, number];
  assert.throws(
    () => imageDatasetFromDirectory(path.join(root, 'tree'), { ...quiet, imageSize: bad }),
    /imageSize must be \[height, width\]/,
  );
});

test('shuffle: same seed and epoch give the same order, another epoch another order; shuffle false keeps file order', async () => {
  const mk = (seed: number, shuffle = true) =>
    imageDatasetFromDirectory(path.join(root, 'tree'), {
      ...quiet,
      imageSize: [2, 2],
      batchSize: 4,
      seed,
      shuffle,
    });
  const a = (await collect(mk(5), 0)).indices,
    b = (await collect(mk(5), 0)).indices,
    c = (await collect(mk(5), 1)).indices;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(
    (await collect(mk(5, false))).indices,
    Array.from({ length: 12 }, (_, i) => i),
  );
});

test('categorical labels are one-hot float32; labelMode null gives no ys', async () => {
  const ds = imageDatasetFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    imageSize: [2, 2],
    labelMode: 'categorical',
    shuffle: false,
  });
  const b = await ds.load([0, 4, 8]);
  assert.equal(b.ys!.dtype, 'float32');
  assert.deepEqual(await b.ys!.array(), [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
  ]);
  dispose(b);
  const n = await imageDatasetFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    imageSize: [2, 2],
    labelMode: null,
  }).load([1]);
  assert.equal(n.ys, undefined);
  assert.deepEqual(n.labels, [0]);
  dispose(n);
});

test('explicit class order, and a list that does not match the folders is a clear error', async () => {
  const ds = imageDatasetFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    classNames: ['0', '1', '2', '10'],
    imageSize: [2, 2],
  });
  assert.deepEqual(ds.classNames, ['0', '1', '2', '10']);
  assert.equal(ds.files[ds.labels.indexOf(3)].split(path.sep).slice(-2)[0], '10');
  assert.throws(
    () =>
      imageDatasetFromDirectory(path.join(root, 'tree'), {
        ...quiet,
        classNames: ['0', '1', '2', '3'],
      }),
    /no folder for '3'.*folders not in the list: '10'/,
  );
  // flowFromDirectory reads only the listed classes
  const f = flowFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    classes: ['2', '0'],
    targetSize: [2, 2],
  });
  assert.deepEqual(f.classNames, ['2', '0']);
  assert.equal(f.size, 6);
});

test('missing folder, folder without classes, empty class folder: errors name the path and the fix', () => {
  assert.throws(
    () => imageDatasetFromDirectory(path.join(root, 'nope'), quiet),
    (e: Error) => e.message.includes(path.join(root, 'nope')) && /prepare/.test(e.message),
  );
  const flat = path.join(root, 'flat');
  fs.mkdirSync(flat, { recursive: true });
  fs.writeFileSync(path.join(flat, 'a.png'), '');
  assert.throws(
    () => imageDatasetFromDirectory(flat, quiet),
    /No class sub-folders in .*flat.*one folder per class/,
  );
  const empty = path.join(root, 'empty');
  fs.mkdirSync(path.join(empty, 'a'), { recursive: true });
  fs.mkdirSync(path.join(empty, 'b'), { recursive: true });
  fs.writeFileSync(path.join(empty, 'a', 'x.txt'), '');
  assert.throws(
    () => imageDatasetFromDirectory(empty, quiet),
    (e: Error) => e.message.includes(path.join(empty, 'a')) && /no images/.test(e.message),
  );
});

test('a corrupt image is an error naming the file, or skipped with a warning', async () => {
  const dir = path.join(root, 'corrupt');
  await writeSolid(path.join(dir, 'a', 'good.png'), [1, 2, 3]);
  await writeSolid(path.join(dir, 'a', 'good2.png'), [1, 2, 3]);
  fs.writeFileSync(path.join(dir, 'a', 'bad.png'), Buffer.from('not really a png'));
  const start = tf.memory().numTensors;
  const ds = imageDatasetFromDirectory(dir, { ...quiet, imageSize: [2, 2], shuffle: false });
  await assert.rejects(
    collect(ds),
    (e: Error) =>
      e.message.includes(path.join(dir, 'a', 'bad.png')) && /onCorrupt: 'skip'/.test(e.message),
  );
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  try {
    const skip = imageDatasetFromDirectory(dir, {
      ...quiet,
      imageSize: [2, 2],
      shuffle: false,
      onCorrupt: 'skip',
    });
    const got = await collect(skip);
    assert.equal(got.indices.length, 2);
    await collect(skip);
    // The file once, and once the epoch that skipped it: how many, which, what to do.
    assert.equal(
      warnings.length,
      2,
      'warned once per file, reported once: ' + warnings.join(' | '),
    );
    assert.match(warnings[0], /bad\.png/);
    assert.match(
      warnings[1],
      /onCorrupt 'skip': 1 of 3 files could not be decoded .*bad\.png.*skippedFiles/,
    );
    assert.deepEqual(skip.skippedFiles, [path.join(dir, 'a', 'bad.png')]);
  } finally {
    console.warn = warn;
  }
  assert.equal(tf.memory().numTensors, start);
});

test('validationSplit + subset: disjoint, complete, needs a seed when shuffling', () => {
  const opts = { ...quiet, imageSize: [2, 2] as [number, number], validationSplit: 0.25, seed: 9 };
  const tr = imageDatasetFromDirectory(path.join(root, 'tree'), { ...opts, subset: 'training' });
  const va = imageDatasetFromDirectory(path.join(root, 'tree'), { ...opts, subset: 'validation' });
  assert.equal(tr.size, 9);
  assert.equal(va.size, 3);
  assert.equal(new Set([...tr.files, ...va.files]).size, 12);
  assert.throws(
    () =>
      imageDatasetFromDirectory(path.join(root, 'tree'), {
        ...quiet,
        validationSplit: 0.2,
        subset: 'training',
      }),
    /seed/,
  );
  assert.throws(
    () => imageDatasetFromDirectory(path.join(root, 'tree'), { ...quiet, validationSplit: 0.2 }),
    /subset/,
  );
  // flowFromDirectory: first fraction of each class's sorted files is validation
  const fv = new ImageDataGenerator({ validationSplit: 0.34 }).flowFromDirectory(
    path.join(root, 'tree'),
    { ...quiet, subset: 'validation', targetSize: [2, 2] },
  );
  assert.equal(fv.size, 4);
  assert.ok(fv.files.every((f) => f.endsWith('img0.png')));
});

test('flowFromDirectory: Keras defaults (256x256, categorical), sparse and input modes', async () => {
  const f = flowFromDirectory(path.join(root, 'tree'), { ...quiet, batchSize: 2 });
  assert.deepEqual(f.imageSize, [256, 256]);
  assert.equal(f.labelMode, 'categorical');
  const s = await flowFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    classMode: 'sparse',
    targetSize: [3, 3],
  }).load([5]);
  assert.deepEqual(Array.from(await s.ys!.data()), [1]);
  dispose(s);
  const inp = await flowFromDirectory(path.join(root, 'tree'), {
    ...quiet,
    classMode: 'input',
    targetSize: [3, 3],
  }).load([0]);
  assert.deepEqual(await inp.ys!.array(), await inp.xs.array());
  dispose(inp);
});

test('rescale, preprocessing modes and functions, augmentation and withoutAugmentation', async () => {
  const start = tf.memory().numTensors;
  const dir = path.join(root, 'tree');
  const px = async (ds: ImageDataset, epoch?: number) => {
    const b = await ds.load([0], { epoch });
    const v = Array.from(await b.xs.data()).slice(0, 3);
    dispose(b);
    return v;
  };
  // class '0' colour is (0, 100, 200)
  assert.deepEqual(
    await px(
      imageDatasetFromDirectory(dir, {
        ...quiet,
        imageSize: [2, 2],
        shuffle: false,
        rescale: 1 / 100,
      }),
    ),
    [0, 1, 2],
  );
  const tfm = await px(
    imageDatasetFromDirectory(dir, {
      ...quiet,
      imageSize: [2, 2],
      shuffle: false,
      preprocessing: 'tf',
    }),
  );
  tfm.forEach((v, k) => assert.ok(Math.abs(v - [-1, 100 / 127.5 - 1, 200 / 127.5 - 1][k]) < 1e-6));
  const caffe = await px(
    imageDatasetFromDirectory(dir, {
      ...quiet,
      imageSize: [2, 2],
      shuffle: false,
      preprocessing: 'caffe',
    }),
  );
  caffe.forEach((v, k) =>
    assert.ok(Math.abs(v - [200 - 103.939, 100 - 116.779, 0 - 123.68][k]) < 1e-4),
  );
  assert.deepEqual(
    await px(
      imageDatasetFromDirectory(dir, {
        ...quiet,
        imageSize: [2, 2],
        shuffle: false,
        preprocessing: (x) => x.add(1),
      }),
    ),
    [1, 101, 201],
  );
  // brightness 0.5 exactly: every draw halves the pixels; without an epoch there is no draw
  const aug = imageDatasetFromDirectory(dir, {
    ...quiet,
    imageSize: [2, 2],
    shuffle: false,
    augment: new ImageDataGenerator({ brightnessRange: [0.5, 0.5], rescale: 2 }),
  });
  assert.equal(aug.augmented, true);
  assert.deepEqual(await px(aug, 0), [0, 100, 200]);
  assert.deepEqual(await px(aug), [0, 200, 400]);
  const plain = aug.withoutAugmentation();
  assert.equal(plain.augmented, false);
  assert.deepEqual(await px(plain, 0), [0, 200, 400], 'rescale kept, random transform dropped');
  assert.notEqual(plain.cacheKey, aug.cacheKey);
  assert.equal(tf.memory().numTensors, start);
});

test('formats: JPEG, WebP, GIF, PNG via sharp and PPM (P6, P3) via our reader', async () => {
  const dir = path.join(root, 'formats');
  for (const ext of ['jpg', 'webp', 'gif', 'png'])
    await writeSolid(path.join(dir, ext, `x.${ext}`), [40, 80, 120], 4, 3);
  writePpm(path.join(dir, 'ppm', 'x.ppm'), 2, 1, [1, 2, 3, 250, 251, 252]);
  fs.mkdirSync(path.join(dir, 'ppm3'));
  fs.writeFileSync(path.join(dir, 'ppm3', 'y.ppm'), 'P3\n2 1\n# comment\n15\n15 0 0  0 15 0\n');
  const p6 = await decodeImageFile(path.join(dir, 'ppm', 'x.ppm'));
  assert.deepEqual([p6.width, p6.height, ...p6.data], [2, 1, 1, 2, 3, 250, 251, 252]);
  const p3 = await decodeImageFile(path.join(dir, 'ppm3', 'y.ppm'));
  assert.deepEqual(Array.from(p3.data), [255, 0, 0, 0, 255, 0]);
  for (const ext of ['jpg', 'webp', 'gif', 'png']) {
    const d = await decodeImageFile(path.join(dir, ext, `x.${ext}`));
    assert.deepEqual([d.width, d.height], [4, 3]);
    assert.ok(
      Math.abs(d.data[0] - 40) <= 3 && Math.abs(d.data[2] - 120) <= 3,
      `${ext}: ${d.data.slice(0, 3)}`,
    );
  }
  const ds = flowFromDirectory(dir, { ...quiet, targetSize: [2, 2] });
  assert.equal(ds.size, 6);
  await collect(ds);
  fs.writeFileSync(path.join(dir, 'ppm', 'trunc.ppm'), 'P6\n4 4\n255\nabc');
  await assert.rejects(
    decodeImageFile(path.join(dir, 'ppm', 'trunc.ppm')),
    /trunc\.ppm.*truncated/,
  );
});

test('bilinear and nearest resize reproduce tf.image.resize (half-pixel centres)', async () => {
  const h = 7,
    w = 5;
  const src = Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 37) % 256);
  for (const [oh, ow] of [
    [3, 4],
    [11, 9],
    [7, 2],
  ]) {
    const ref = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(Array.from(src), [1, h, w, 3]), [oh, ow], false, true),
    );
    const mine = resizeRgb(src, h, w, oh, ow, 'bilinear');
    const r = await ref.data();
    ref.dispose();
    r.forEach((v, i) =>
      assert.ok(Math.abs(v - mine[i]) < 1e-3, `bilinear ${oh}x${ow} at ${i}: ${mine[i]} vs ${v}`),
    );
    const refN = tf.tidy(() =>
      tf.image.resizeNearestNeighbor(
        tf.tensor4d(Array.from(src), [1, h, w, 3]),
        [oh, ow],
        false,
        true,
      ),
    );
    const n = await refN.data();
    refN.dispose();
    assert.deepEqual(Array.from(resizeRgb(src, h, w, oh, ow, 'nearest')), Array.from(n));
  }
});

test('datasetFromCsv maps label names into the training class order; raw mode shows the pitfall', async () => {
  const dir = path.join(root, 'csv');
  for (let i = 0; i < 4; i++)
    await writeSolid(path.join(dir, 'Test', `${i}.png`), colourOf(i), 10, 10);
  fs.writeFileSync(
    path.join(dir, 'Test.csv'),
    'Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n' +
      ['10', '2', '0', '1'].map((c, i) => `10,10,1,1,8,8,${c},Test/${i}.png`).join('\n') +
      '\n',
  );
  const classNames = ['0', '1', '10', '2'];
  const ds = datasetFromCsv(path.join(dir, 'Test.csv'), {
    ...quiet,
    classNames,
    imageSize: [2, 2],
    cropToRoi: true,
  });
  assert.deepEqual(ds.labels, [2, 3, 0, 1]);
  assert.deepEqual(
    ds.files.map((f) => path.basename(f)),
    ['0.png', '1.png', '2.png', '3.png'],
    'not shuffled by default',
  );
  const b = await ds.load([0]);
  assert.deepEqual(Array.from(await b.xs.data()).slice(0, 3), colourOf(0));
  dispose(b);
  // semicolon GT file, paths relative to its own folder
  fs.writeFileSync(
    path.join(dir, 'Test', 'GT-00002.csv'),
    'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n1.png;10;10;0;0;9;9;2\n3.png;10;10;0;0;9;9;2\n',
  );
  const gt = datasetFromCsv([path.join(dir, 'Test', 'GT-00002.csv')], { ...quiet, classNames });
  assert.deepEqual(gt.labels, [3, 3]);
  const raw = datasetFromCsv(path.join(dir, 'Test', 'GT-00002.csv'), {
    ...quiet,
    classNames,
    labelMapping: 'raw',
  });
  assert.deepEqual(raw.labels, [2, 2], "raw label 2 points at class '10': the pitfall");
  assert.throws(
    () => datasetFromCsv(path.join(dir, 'Test.csv'), { ...quiet, classNames: ['0', '1', '2'] }),
    /Test\.csv line 2: label '10' is not one of the 3 training classes/,
  );
  assert.throws(() => datasetFromCsv(path.join(dir, 'Test.csv'), quiet), /pass classNames/);
  assert.throws(
    () => datasetFromCsv(path.join(dir, 'Test.csv'), { ...quiet, classNames, baseDir: root }),
    /not found.*baseDir/,
  );
  assert.throws(
    () =>
      datasetFromCsv(path.join(dir, 'Test.csv'), { ...quiet, classNames, labelColumn: 'Label' }),
    /no column 'Label'/,
  );
});
