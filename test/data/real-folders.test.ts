// A user's real folder, built here with sharp: linked class folders (and dangling links and loops),
// macOS' AppleDouble `._*` files, nested folders in Keras' os.walk order, names outside the BMP in
// Python's sorted() order, EXIF-rotated photos, CSV paths outside the dataset folder, duplicate
// and empty class names, and the summary line every dataset prints.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { flowFromDirectory, imageDatasetFromDirectory } from '../../lib/data/directory';
import { datasetFromCsv } from '../../lib/data/csv';
import { decodeImageFile, setExifTranspose } from '../../lib/data/decode';
import { compareCodePoints, pythonSorted } from '../../lib/data/names';
import { readImageHeader } from '../../lib/data/headers';
import { summarizeDataset } from '../../lib/data/summary';
import { composeGrid } from '../../lib/charts/grid';
import { predictImage } from '../../lib/charts/predict-image';
import { tmpDir } from '../helpers';
import { writeSolid } from './fixtures';

const quiet = { verbose: false } as const;
let root: string;

before(async () => {
  await tf.setBackend('cpu');
  root = tmpDir('real-folders-');
});

/** Console output of `fn` (log and warn), and its result. */
async function capture<T>(fn: () => T | Promise<T>): Promise<{ out: string[]; value: T }> {
  const out: string[] = [];
  const { log, warn } = console;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.warn = (...a: unknown[]) => out.push(a.join(' '));
  try {
    return { out, value: await fn() };
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

const rel = (dir: string, files: string[]) => files.map((f) => path.relative(dir, f));

/** A 16x8 JPEG, left half red, right half blue, stored with EXIF orientation `o`. */
async function writeRotatedJpeg(file: string, o: number): Promise<void> {
  const w = 16;
  const h = 8;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) raw[(y * w + x) * 3 + (x < w / 2 ? 0 : 2)] = 255;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: o })
    .toFile(file);
}

test('a linked class folder is a class (Keras: os.path.isdir follows links); a dangling link and a loop are named, not an ENOENT', async () => {
  const dir = path.join(root, 'links');
  const elsewhere = path.join(root, 'elsewhere', 'cats');
  await writeSolid(path.join(elsewhere, 'c1.png'), [1, 2, 3]);
  await writeSolid(path.join(dir, 'dogs', 'd1.png'), [4, 5, 6]);
  fs.symlinkSync(elsewhere, path.join(dir, 'cats'));
  fs.symlinkSync(path.join(root, 'nowhere'), path.join(dir, 'birds')); // dangling
  fs.symlinkSync(path.join(root, 'nowhere.png'), path.join(dir, 'dogs', 'gone.png')); // dangling file
  fs.symlinkSync(path.join(dir, 'dogs'), path.join(dir, 'dogs', 'again')); // loop
  for (const followLinks of [false, true]) {
    const { out, value: ds } = await capture(() =>
      imageDatasetFromDirectory(dir, { imageSize: [4, 4], shuffle: false, followLinks }),
    );
    assert.deepEqual(ds.classNames, ['cats', 'dogs']);
    assert.deepEqual(rel(dir, ds.files), ['cats/c1.png', 'dogs/d1.png']);
    const text = out.join('\n');
    assert.match(text, /birds is a link to .*nowhere, which does not exist; left out/);
    assert.match(text, /gone\.png is a link to .*nowhere\.png, which does not exist/);
    assert.doesNotMatch(text, /ENOENT/);
    if (followLinks)
      assert.match(text, /dogs\/again links back to a folder above it .*not followed again/);
    else assert.match(text, /1 linked folders \(followLinks: true to read them\)/);
  }
  const flow = flowFromDirectory(dir, { ...quiet, targetSize: [4, 4], shuffle: false });
  assert.deepEqual(flow.classNames, ['cats', 'dogs']);
});

test('AppleDouble ._ files, .DS_Store and hidden folders are skipped and counted; the first epoch runs', async () => {
  const dir = path.join(root, 'mac');
  await writeSolid(path.join(dir, 'a', 'IMG_0001.JPG'), [200, 0, 0]);
  await writeSolid(path.join(dir, 'b', 'IMG_0002.png'), [0, 200, 0]);
  // What a Mac leaves on a FAT/exFAT stick or in a zip: resource forks named like the images.
  fs.writeFileSync(path.join(dir, 'a', '._IMG_0001.JPG'), Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]));
  fs.writeFileSync(path.join(dir, 'b', '.DS_Store'), 'junk');
  await writeSolid(path.join(dir, 'b', '.thumbnails', 't.png'), [0, 0, 0]);
  fs.writeFileSync(path.join(dir, 'b', 'Thumbs.db'), 'junk');
  fs.mkdirSync(path.join(dir, '.Trashes'));
  const { out, value: ds } = await capture(() =>
    imageDatasetFromDirectory(dir, { imageSize: [2, 2], shuffle: false }),
  );
  assert.deepEqual(ds.classNames, ['a', 'b']);
  assert.deepEqual(rel(dir, ds.files), ['a/IMG_0001.JPG', 'b/IMG_0002.png']);
  for await (const b of ds.batches()) tf.dispose([b.xs, b.ys!]);
  const summary = out.find((l) => l.startsWith('Summary:'))!;
  assert.match(summary, /skipped 4 hidden \(/);
  assert.match(summary, /1 not images \(Thumbs\.db\)/);
  // Without the fix the ._ file was listed and the epoch stopped on it.
  assert.ok(!ds.files.some((f) => path.basename(f).startsWith('.')));
});

test("nested folders inside a class come in Keras' os.walk order (folder paths sorted, then names)", async () => {
  const dir = path.join(root, 'nested');
  const c = path.join(dir, 'c');
  for (const f of ['z.png', 'b.png', 'a/x.png', 'a/deeper/w.png', 'a-b/y.png', 'A/u.png'])
    await writeSolid(path.join(c, f), [9, 9, 9]);
  const ds = imageDatasetFromDirectory(dir, { ...quiet, imageSize: [2, 2], shuffle: false });
  // Keras: sorted(os.walk(...), key=root) -> c, c/A, c/a, c/a-b, c/a/deeper ('-' < '/').
  assert.deepEqual(rel(c, ds.files), [
    'b.png',
    'z.png',
    'A/u.png',
    'a/x.png',
    'a-b/y.png',
    'a/deeper/w.png',
  ]);
  // flow_from_directory walks the same way, and its validation split takes the first files.
  const val = flowFromDirectory(dir, {
    ...quiet,
    targetSize: [2, 2],
    validationSplit: 0.34,
    subset: 'validation',
    shuffle: false,
  });
  assert.deepEqual(rel(c, val.files), ['b.png', 'z.png']);
});

test("class order is Python's sorted(): code points, also outside the Basic Multilingual Plane", async () => {
  const names = ['zebra', '\u{1F600}smile', '\uFB01sh', 'Apple', 'é'];
  // JavaScript's sort compares UTF-16 units: the emoji (D83D DE00) would come before U+FB01.
  assert.deepEqual(names.slice().sort(), ['Apple', 'zebra', 'é', '\u{1F600}smile', '\uFB01sh']);
  assert.deepEqual(pythonSorted(names), ['Apple', 'zebra', 'é', '\uFB01sh', '\u{1F600}smile']);
  assert.equal(compareCodePoints('a', 'ab'), -1);
  assert.equal(compareCodePoints('\u{1F600}', '\u{1F600}'), 0);
  const dir = path.join(root, 'unicode');
  for (const n of names) await writeSolid(path.join(dir, n, '1.png'), [1, 1, 1]);
  const ds = imageDatasetFromDirectory(dir, { ...quiet, imageSize: [2, 2], shuffle: false });
  assert.deepEqual(ds.classNames, pythonSorted(names));
  assert.equal(ds.labels[ds.files.findIndex((f) => f.includes('\uFB01sh'))], 3);
});

test('duplicate or empty class names are refused by every loader and by the CSV', async () => {
  const dir = path.join(root, 'dups');
  await writeSolid(path.join(dir, 'a', '1.png'), [1, 1, 1]);
  await writeSolid(path.join(dir, 'b', '1.png'), [1, 1, 1]);
  fs.writeFileSync(path.join(dir, 'labels.csv'), 'Path,ClassId\na/1.png,a\nb/1.png,b\n');
  assert.throws(
    () => imageDatasetFromDirectory(dir, { ...quiet, classNames: ['a', 'b', 'a'] }),
    /"a" appears twice \(positions 0 and 2\)/,
  );
  assert.throws(
    () => flowFromDirectory(dir, { ...quiet, classes: ['a', ''] }),
    /class 1 has an empty name/,
  );
  assert.throws(
    () => datasetFromCsv(path.join(dir, 'labels.csv'), { ...quiet, classNames: ['a', 'b', 'a'] }),
    /labels\.csv\): the class name "a" appears twice/,
  );
  assert.throws(
    () => datasetFromCsv(path.join(dir, 'labels.csv'), { ...quiet, classNames: ['a', ' '] }),
    /empty name/,
  );
  const ok = datasetFromCsv(path.join(dir, 'labels.csv'), { ...quiet, classNames: 'inferred' });
  assert.deepEqual(ok.classNames, ['a', 'b']);
  assert.deepEqual(ok.labels, [0, 1]);
});

test('CSV paths stay inside the dataset folder unless allowed; a bad row is named by its line', async () => {
  const dir = path.join(root, 'csv');
  await writeSolid(path.join(dir, 'imgs', '1.png'), [1, 1, 1]);
  await writeSolid(path.join(root, 'secret.png'), [1, 1, 1]);
  const csv = (name: string, body: string) => {
    fs.writeFileSync(path.join(dir, name), body);
    return path.join(dir, name);
  };
  // A quoted field with a line break: the bad row is on line 4 of the file, not "row 3".
  const up = csv('up.csv', 'Path,ClassId,Note\nimgs/1.png,0,"two\nlines"\n../secret.png,0,x\n');
  assert.throws(
    () => datasetFromCsv(up, { ...quiet, classNames: ['0'] }),
    (e: Error) =>
      e.message.includes(
        `${up} line 4: the image path "../secret.png" leads outside the dataset folder ${dir}`,
      ) && /allowPathsOutside: true/.test(e.message),
  );
  const abs = csv('abs.csv', `Path,ClassId\n${path.join(root, 'secret.png')},0\n`);
  assert.throws(
    () => datasetFromCsv(abs, { ...quiet, classNames: ['0'] }),
    /abs\.csv line 2: .*leads outside/,
  );
  const allowed = datasetFromCsv(up, { ...quiet, classNames: ['0'], allowPathsOutside: true });
  assert.equal(allowed.size, 2);
  // An absolute path inside the folder is fine.
  const inside = csv('inside.csv', `Path,ClassId\n${path.join(dir, 'imgs', '1.png')},0\n`);
  assert.equal(datasetFromCsv(inside, { ...quiet, classNames: ['0'] }).size, 1);
  const missing = csv('missing.csv', 'Path,ClassId\nimgs/1.png,0\nimgs/2.png,0\n');
  assert.throws(
    () => datasetFromCsv(missing, { ...quiet, classNames: ['0'] }),
    /missing\.csv line 3: image .*2\.png not found/,
  );
  const empty = csv('empty.csv', 'Path,ClassId\n,0\n');
  assert.throws(
    () => datasetFromCsv(empty, { ...quiet, classNames: ['0'] }),
    /empty\.csv line 2: the 'Path' column is empty/,
  );
});

test('EXIF orientation: pixels as stored by default (Keras), transposed on request, and every display follows', async () => {
  const dir = path.join(root, 'exif');
  const photo = path.join(dir, 'cls', 'portrait.jpg');
  await writeRotatedJpeg(photo, 6);
  await writeSolid(path.join(dir, 'cls', 'plain.png'), [0, 0, 0]);
  assert.equal(readImageHeader(photo)?.orientation, 6);
  const stored = await decodeImageFile(photo);
  assert.deepEqual([stored.width, stored.height], [16, 8], 'as stored, as tf.io.decode_image');
  const upright = await decodeImageFile(photo, { exifTranspose: true });
  assert.deepEqual([upright.width, upright.height], [8, 16]);
  // Stored: left red, right blue. Turned 90° clockwise: top red, bottom blue.
  assert.ok(upright.data[0] > 200 && upright.data[2] < 50);
  assert.ok(upright.data[15 * 8 * 3 + 2] > 200);

  const { out, value: ds } = await capture(() =>
    imageDatasetFromDirectory(dir, { imageSize: [8, 16], shuffle: false }),
  );
  assert.match(out.join('\n'), /1 with an EXIF rotation \(used as stored, as Keras\)/);
  const b = await ds.load([ds.files.indexOf(photo)]);
  const px = await b.xs.data();
  assert.ok(px[0] > 200 && px[15 * 3 + 2] > 200, 'row 0: red on the left, blue on the right');
  tf.dispose([b.xs, b.ys!]);
  assert.equal(ds.exifTranspose, false);

  // A grid tile shows the same pixels: landscape in a square tile leaves white above the image.
  const tileTop = async (exifTranspose: boolean | undefined) => {
    const png = await composeGrid(
      [{ file: photo, exifTranspose, title: { text: 'x', colour: '#000' } }],
      {
        cols: 1,
        tileSize: 64,
      },
    );
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    // Centre column of the tile, a few pixels below the title band.
    const y = info.height - 8 - 64 + 4;
    const x = 8 + 32;
    return [
      ...data.subarray(
        (y * info.width + x) * info.channels,
        (y * info.width + x) * info.channels + 3,
      ),
    ];
  };
  assert.deepEqual(
    await tileTop(undefined),
    [255, 255, 255],
    'stored: landscape, white band on top',
  );
  assert.notDeepEqual(
    await tileTop(true),
    [255, 255, 255],
    'transposed: portrait fills the height',
  );

  // predictImage shows the thumbnail of what the model saw.
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 16, 3] }),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const thumbSize = async () => {
    const r = await predictImage(model, photo, {
      classNames: ['a', 'b'],
      show: false,
      preprocess: 'none',
    });
    const b64 = /data:image\/jpeg;base64,([^"]+)/.exec(r.html)![1];
    const m = await sharp(Buffer.from(b64, 'base64')).metadata();
    return [m.width, m.height];
  };
  assert.deepEqual(
    await thumbSize(),
    [256, 128],
    'landscape, as stored (the old thumbnail was rotated upright)',
  );
  setExifTranspose(true);
  try {
    assert.deepEqual(await thumbSize(), [128, 256]);
    const t = imageDatasetFromDirectory(dir, { ...quiet, imageSize: [16, 8], shuffle: false });
    assert.equal(t.exifTranspose, true);
    assert.notEqual(
      t.cacheKey,
      imageDatasetFromDirectory(dir, { ...quiet, imageSize: [16, 8], exifTranspose: false })
        .cacheKey,
    );
  } finally {
    setExifTranspose(false);
  }
  model.dispose();
});

test('the summary line: images per class, skipped files, formats from headers, smallest image; a warning for strong imbalance', async () => {
  const dir = path.join(root, 'summary');
  for (let k = 0; k < 10; k++)
    await writeSolid(path.join(dir, 'many', `${k}.png`), [1, 1, 1], 20, 10);
  await writeSolid(path.join(dir, 'few', 'tiny.jpg'), [1, 1, 1], 3, 2);
  await writeSolid(path.join(dir, 'few', 'b.webp'), [1, 1, 1], 30, 30);
  fs.writeFileSync(path.join(dir, 'few', 'broken.png'), 'not a png');
  const { out, value: ds } = await capture(() =>
    imageDatasetFromDirectory(dir, { imageSize: [4, 4], seed: 1, onCorrupt: 'skip' }),
  );
  assert.equal(out[0], 'Found 13 files belonging to 2 classes.');
  assert.equal(
    out[1],
    'Summary: 13 images in 2 classes ("few" 3, "many" 10); nothing skipped; formats PNG 10, JPEG 1, WebP 1; ' +
      "1 unreadable (broken.png: an error when loaded, or onCorrupt: 'skip'); smallest 3×2 (tiny.jpg).",
  );
  assert.equal(out.length, 2, '3.3:1 is below the warning ratio');
  // Every image in class 'x': class 'y' has none.
  const s = summarizeDataset(
    ds.files,
    ds.labels.map(() => 0),
    ['x', 'y'],
  );
  assert.match(s.warning ?? '', /strong class imbalance: "x" has 13 images, "y" 0/);
  const five = summarizeDataset(
    ['a', 'b', 'c', 'd', 'e', 'f'],
    [0, 0, 0, 0, 0, 1],
    ['big', 'small'],
  );
  assert.match(five.warning ?? '', /"big" has 5 images, "small" 1 \(5\.0:1\)/);
});
