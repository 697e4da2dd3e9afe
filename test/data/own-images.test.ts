// Notebook 04's library side: the generated messy folder, checkImages (counts, imbalance, corrupt,
// tiny, duplicates), findDuplicates across splits, IMAGES_DIR, and the stratified split.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkImages,
  findDuplicates,
  imagesFromEnv,
  makeMessyImageFolder,
} from '../../lib/data/own-images';
import { imageDatasetFromDirectory, splitItems } from '../../lib/data/directory';
import { datasetFromCsv } from '../../lib/data/csv';
import { tmpDir } from '../helpers';
import { writeSolid } from './fixtures';

let messy: string;

before(async () => {
  await tf.setBackend('cpu');
  messy = await makeMessyImageFolder(path.join(tmpDir('messy-'), 'folder'), {
    classes: 4,
    perClass: 10,
    size: 40,
  });
});

test('the generated folder holds what a real one does, and checkImages finds each problem', async () => {
  const c = await checkImages(messy, { show: false });
  assert.equal(c.perClass.length, 4);
  // 10 per class, the last class 5, plus the extra files the folder is built with.
  assert.deepEqual(
    c.perClass.map((p) => p.count),
    [11, 12, 12, 5],
  );
  assert.equal(c.imbalance, 12 / 5);
  assert.deepEqual(
    c.corrupt.map((x) => path.basename(x.file)),
    ['IMG_cut_short.jpg'],
  );
  assert.ok(c.corrupt[0].error.length > 0, 'the decoder says why');
  assert.deepEqual(
    c.tiny.map((t) => [path.basename(t.file), t.width, t.height]),
    [['thumb.png', 6, 6]],
  );
  assert.equal(c.duplicates.length, 2);
  const conflict = c.duplicates.find((d) => d.conflict)!;
  assert.ok(conflict.files.some((f) => f.file.endsWith('wrong class copy.png')));
  assert.ok(
    c.duplicates.find((d) => !d.conflict)!.files.some((f) => f.file.endsWith('copy of first.png')),
  );
  assert.equal(c.skipped.hidden?.length, 2, '._ file and .DS_Store');
  assert.match(c.text, /Corrupt: .*IMG_cut_short\.jpg/);
  assert.match(c.text, /Same picture in different classes: .*\(one label is wrong\)/);
  assert.ok(c.html.includes('<li>'));
});

test('a strong imbalance is a finding; a clean folder has none', async () => {
  const dir = tmpDir('clean-');
  for (let k = 0; k < 12; k++)
    await writeSolid(path.join(dir, 'big', `${k}.png`), [k, 0, 0], 40, 40);
  for (let k = 0; k < 2; k++)
    await writeSolid(path.join(dir, 'small', `${k}.png`), [0, k + 1, 50], 40, 40);
  const c = await checkImages(dir, { show: false });
  assert.deepEqual(c.findings.length, 1);
  assert.match(c.findings[0], /Strong class imbalance \(6\.0:1\)/);
  fs.rmSync(path.join(dir, 'big', '11.png'));
  for (let k = 2; k < 11; k++)
    await writeSolid(path.join(dir, 'small', `${k}.png`), [0, k + 1, 50], 40, 40);
  const clean = await checkImages(dir, { show: false });
  assert.deepEqual(clean.findings, []);
  assert.match(clean.text, /No problems found/);
});

test('findDuplicates names a picture that is in the training and the validation split', async () => {
  const pairs = [
    ['00000_00001.png', 'copy of first.png'],
    ['00000_00002.png', 'wrong class copy.png'],
  ];
  // The first seed that puts a copy pair across the split (where copies land depends on it).
  for (let seed = 0; seed < 50; seed++) {
    const opts = {
      verbose: false,
      imageSize: [8, 8] as const,
      seed,
      validationSplit: 0.5,
      stratify: true,
    };
    const train = imageDatasetFromDirectory(messy, { ...opts, subset: 'training' });
    const valid = imageDatasetFromDirectory(messy, { ...opts, subset: 'validation' });
    const inTrain = (name: string) => train.files.some((f) => path.basename(f) === name);
    const expected = pairs.filter(([a, b]) => inTrain(a) !== inTrain(b)).length;
    if (!expected) continue;
    assert.equal(train.files.filter((f) => valid.files.includes(f)).length, 0, 'disjoint by file');
    const r = await findDuplicates({ training: train, validation: valid }, { show: false });
    assert.equal(r.leaks.length, expected);
    assert.ok(r.leaks.every((l) => new Set(l.copies.map((c) => c.split)).size === 2));
    assert.match(r.text, /in more than one split \(training \/ validation\), a leak/);
    const none = await findDuplicates(
      { a: train.files.slice(0, 3), b: train.files.slice(3, 6) },
      { show: false },
    );
    assert.deepEqual(none.leaks, []);
    assert.match(none.text, /No picture is in more than one split/);
    return;
  }
  assert.fail('no seed put a copy pair across the split');
});

test('a stratified split keeps every class in both parts; Keras-style can leave one out', () => {
  const items = [
    ...Array.from({ length: 18 }, (_, i) => ({ id: i, label: 0 })),
    ...Array.from({ length: 2 }, (_, i) => ({ id: 100 + i, label: 1 })),
  ];
  for (let seed = 0; seed < 20; seed++) {
    const v = splitItems(items, {
      validationSplit: 0.5,
      subset: 'validation',
      seed,
      stratify: true,
    });
    const t = splitItems(items, { validationSplit: 0.5, subset: 'training', seed, stratify: true });
    assert.deepEqual(
      [v.filter((x) => x.label === 0).length, v.filter((x) => x.label === 1).length],
      [9, 1],
    );
    assert.equal(new Set([...v, ...t].map((x) => x.id)).size, 20, 'disjoint and complete');
  }
  const missing = Array.from({ length: 20 }, (_, seed) =>
    splitItems(items, { validationSplit: 0.2, subset: 'validation', seed }),
  ).filter((v) => !v.some((x) => x.label === 1)).length;
  assert.ok(missing > 0, 'without stratify some seeds leave class 1 out of validation');
});

test('IMAGES_DIR: a folder, a CSV, or a clear error; unset, the generated folder', async () => {
  const saved = process.env.IMAGES_DIR;
  try {
    const dir = tmpDir('images-dir-');
    await writeSolid(path.join(dir, 'a', '1.png'), [1, 1, 1]);
    await writeSolid(path.join(dir, 'b', '1.png'), [2, 2, 2]);
    fs.writeFileSync(path.join(dir, 'labels.csv'), 'Path,ClassId\na/1.png,cat\nb/1.png,dog\n');
    process.env.IMAGES_DIR = dir;
    assert.deepEqual(
      { ...(await imagesFromEnv({ classes: 2, perClass: 2, size: 16 }, { show: false })) },
      { kind: 'folder', path: dir, label: `your images (${dir})`, source: 'real' },
    );
    process.env.IMAGES_DIR = path.join(dir, 'labels.csv');
    const csv = await imagesFromEnv({ classes: 2, perClass: 2, size: 16 }, { show: false });
    assert.equal(csv.kind, 'csv');
    const c = await checkImages(csv, { show: false });
    assert.deepEqual(
      c.perClass.map((p) => p.className),
      ['cat', 'dog'],
    );
    const ds = datasetFromCsv(csv.path, { verbose: false, classNames: 'inferred' });
    assert.deepEqual(ds.classNames, ['cat', 'dog']);
    process.env.IMAGES_DIR = path.join(dir, 'nope');
    await assert.rejects(
      imagesFromEnv({ classes: 2, perClass: 2, size: 16 }, { show: false }),
      /IMAGES_DIR is .*nope, which does not exist\. Point it at a folder/,
    );
    process.env.IMAGES_DIR = path.join(dir, 'a', '1.png');
    await assert.rejects(
      imagesFromEnv({ classes: 2, perClass: 2, size: 16 }, { show: false }),
      /point it at a folder of class folders or at a \.csv file/,
    );
    delete process.env.IMAGES_DIR;
    const gen = await imagesFromEnv({ classes: 2, perClass: 3, size: 16 }, { show: false });
    assert.equal(gen.source, 'generated');
    assert.deepEqual(fs.readdirSync(gen.path).length, 2);
  } finally {
    if (saved === undefined) delete process.env.IMAGES_DIR;
    else process.env.IMAGES_DIR = saved;
  }
});
