// Dataset preparation: resumable checksummed downloads (local HTTP server), GTSRB-40 from the
// official layout, Stanford Cars from the real devkit/CSV annotations and tiny stand-in images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { downloadFile } from '../../lib/io/download';
import { prepareGtsrb, everyNth, isValidationPick } from '../../lib/data/prepare/gtsrb';
import {
  readCarsDevkit,
  readCarsCsv,
  splitCars,
  prepareStanfordCars,
  carsFolderName,
} from '../../lib/data/prepare/cars';
import { isCompleteDataset } from '../../lib/data/prepare/atomic';
import { imageDatasetFromDirectory } from '../../lib/data/directory';
import { datasetFromCsv } from '../../lib/data/csv';
import { CARS_DEVKIT, skipUnless, tmpDir } from '../helpers';
import { writePpm, writeSolid } from './fixtures';

test('download: resumes with a Range request after a broken connection, checks md5, explains offline', async () => {
  const body = crypto.randomBytes(50_000);
  const md5 = crypto.createHash('md5').update(body).digest('hex');
  const ranges: (string | undefined)[] = [];
  let breakFirst = true;
  const server = http.createServer((req, res) => {
    ranges.push(req.headers.range);
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'Content-Length': body.length - start,
      ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (breakFirst) {
      breakFirst = false;
      res.write(body.subarray(0, 20_000));
      setTimeout(() => res.destroy(), 50);
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.zip`;
  const dir = tmpDir('dl-');
  const dest = path.join(dir, 'data.zip');
  try {
    await assert.rejects(
      downloadFile(url, dest, { md5 }),
      (e: Error) => e.message.includes(`place it at ${dest}`) && /resumed/.test(e.message),
    );
    assert.ok(!fs.existsSync(dest), 'no complete-looking file after a failure');
    assert.ok(fs.statSync(`${dest}.part`).size >= 20_000);
    await downloadFile(url, dest, { md5 });
    assert.ok(ranges[1]?.startsWith('bytes=20000-'), `second request resumes: ${ranges[1]}`);
    assert.deepEqual(fs.readFileSync(dest), body);
    assert.ok(!fs.existsSync(`${dest}.part`));
    await downloadFile(url, dest, { md5 }); // present and valid: no request
    assert.equal(ranges.length, 2);
    await assert.rejects(
      downloadFile(url, path.join(dir, 'other.zip'), { md5: '0'.repeat(32) }),
      /checksum does not match/,
    );
    assert.ok(
      !fs.existsSync(path.join(dir, 'other.zip')) &&
        !fs.existsSync(path.join(dir, 'other.zip.part')),
    );
  } finally {
    server.close();
  }
  await assert.rejects(
    downloadFile(url, path.join(dir, 'offline.zip')),
    (e: Error) => e.message.includes(path.join(dir, 'offline.zip')) && /offline/.test(e.message),
  );
});

test('every n-th frame selection and the 28/12 interleave', () => {
  assert.deepEqual(everyNth(10, 5), [0, 2, 4, 6, 8]);
  assert.deepEqual(everyNth(3, 5), [0, 1, 2]);
  const valid = Array.from({ length: 40 }, (_, i) => i).filter((i) => isValidationPick(i, 28, 12));
  assert.equal(valid.length, 12);
  assert.ok(valid[0] < 5 && valid[11] > 35, 'validation picks are spread over the tracks');
});

test('GTSRB: official PPM + GT-*.csv layout becomes Train/Valid/Test + Test.csv, atomically', async () => {
  const src = path.join(tmpDir('gtsrb-src-'), 'src');
  const imgs = path.join(src, 'GTSRB', 'Final_Training', 'Images');
  for (const c of [0, 1, 10]) {
    const cls = String(c).padStart(5, '0');
    const rows = ['Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId'];
    for (let f = 0; f < 30; f++) {
      const name = `00000_${String(f).padStart(5, '0')}.ppm`;
      writePpm(path.join(imgs, cls, name), 3, 2, Array(18).fill(c * 20 + f));
      rows.push(`${name};3;2;0;0;2;1;${c}`);
    }
    fs.writeFileSync(path.join(imgs, cls, `GT-${cls}.csv`), rows.join('\n') + '\n');
  }
  const testDir = path.join(src, 'GTSRB', 'Final_Test', 'Images');
  const gt = ['Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId'];
  for (let i = 0; i < 8; i++) {
    writePpm(path.join(testDir, `${String(i).padStart(5, '0')}.ppm`), 2, 2, Array(12).fill(i));
    gt.push(`${String(i).padStart(5, '0')}.ppm;2;2;0;0;1;1;${[0, 1, 10][i % 3]}`);
  }
  fs.writeFileSync(path.join(src, 'GT-final_test.csv'), gt.join('\n') + '\n');
  const out = path.join(tmpDir('gtsrb-out-'), 'gtsrb-small');
  await prepareGtsrb({
    outDir: out,
    sourceDir: src,
    trainPerClass: 7,
    validPerClass: 3,
    testEvery: 2,
    progress: false,
  });
  assert.ok(isCompleteDataset(out));
  const train = imageDatasetFromDirectory(path.join(out, 'Train'), { verbose: false });
  assert.deepEqual(train.classNames, ['0', '1', '10']);
  assert.equal(train.size, 21);
  assert.equal(imageDatasetFromDirectory(path.join(out, 'Valid'), { verbose: false }).size, 9);
  assert.deepEqual(
    fs.readdirSync(path.join(out, 'Train', '10')).slice(0, 2),
    ['00000_00000.png', '00000_00003.png'],
    'every 3rd frame, as PNG',
  );
  const test = datasetFromCsv(path.join(out, 'Test.csv'), {
    verbose: false,
    classNames: train.classNames,
  });
  assert.equal(test.size, 4);
  assert.deepEqual(
    test.labels,
    [0, 2, 4, 6].map((row) => train.classNames.indexOf(String([0, 1, 10][row % 3]))),
    'every 2nd test row',
  );
  // A broken source leaves nothing that looks complete.
  fs.writeFileSync(path.join(imgs, '00001', '00000_00000.ppm'), 'P6 broken');
  const out2 = path.join(path.dirname(out), 'second');
  await assert.rejects(
    prepareGtsrb({
      outDir: out2,
      sourceDir: src,
      trainPerClass: 7,
      validPerClass: 3,
      progress: false,
    }),
    /00000_00000\.ppm/,
  );
  assert.ok(!fs.existsSync(out2));
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['gtsrb-small']);
  await assert.rejects(
    prepareGtsrb({
      outDir: path.join(tmpDir('g-'), 'x'),
      sourceDir: tmpDir('empty-'),
      progress: false,
    }),
    /No GTSRB data found/,
  );
});

const skipCars = skipUnless(CARS_DEVKIT);

test('Stanford Cars devkit .mat files and labels CSV agree', { skip: skipCars }, () => {
  const dev = readCarsDevkit(CARS_DEVKIT);
  assert.equal(dev.classNames.length, 196);
  assert.equal(dev.classNames[0], 'AM General Hummer SUV 2000');
  assert.equal(dev.annotations.length, 8144);
  assert.equal(dev.testLabelled, false);
  assert.deepEqual(dev.annotations[0], {
    fname: '00001.jpg',
    classIndex: 13,
    bbox: [39, 116, 569, 375],
    isTest: false,
  });
  const csv = readCarsCsv(path.join(CARS_DEVKIT, 'labels_df.csv'));
  assert.equal(csv.annotations.length, 16185);
  assert.equal(csv.annotations.filter((a) => a.isTest).length, 8041);
  assert.deepEqual(csv.classNames, dev.classNames);
  const split = splitCars(dev.annotations, 0.2, 42);
  const val = split.filter((e) => e.split === 'validation');
  assert.ok(Math.abs(val.length - 8144 * 0.2) < 100);
  for (let c = 0; c < 196; c++) {
    const n = dev.annotations.filter((a) => a.classIndex === c).length;
    assert.equal(
      val.filter((e) => e.classIndex === c).length,
      Math.round(n * 0.2),
      `class ${c} stratified`,
    );
  }
  assert.deepEqual(splitCars(dev.annotations, 0.2, 42), split, 'seeded');
  assert.ok(
    dev.classNames.some((n) => n.includes('/')) &&
      !dev.classNames.map(carsFolderName).some((n) => n.includes('/')),
  );
});

test('Stanford Cars: class-name folders, stratified split, bbox crop; missing images explained', async () => {
  const root = tmpDir('cars-');
  const rows = ['filename,bbox_x1,bbox_y1,bbox_x2,bbox_y2,class_id,class_name,is_test'];
  const names = ['AM General Hummer SUV 2000', 'Ram C/V Cargo Van Minivan 2012'];
  for (let i = 1; i <= 12; i++) {
    const isTest = i > 10 ? 1 : 0,
      cls = (i % 2) + 1;
    const fname = `${String(i).padStart(5, '0')}.jpg`;
    await writeSolid(
      path.join(root, 'images', isTest ? 'cars_test' : 'cars_train', fname),
      [i * 10, 0, 0],
      20,
      10,
    );
    rows.push(`${fname},3,2,12,9,${cls},${names[cls - 1]},${isTest}`);
  }
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n') + '\n');
  const out = await prepareStanfordCars({
    outDir: path.join(root, 'cars'),
    imagesDir: path.join(root, 'images'),
    labelsCsv: path.join(root, 'labels.csv'),
    validationSplit: 0.2,
    cropToBbox: true,
    progress: false,
  });
  const train = imageDatasetFromDirectory(path.join(out, 'train'), { verbose: false });
  assert.deepEqual(train.classNames, [
    'AM General Hummer SUV 2000',
    'Ram C-V Cargo Van Minivan 2012',
  ]);
  assert.equal(train.size, 8);
  assert.equal(imageDatasetFromDirectory(path.join(out, 'validation'), { verbose: false }).size, 2);
  assert.equal(imageDatasetFromDirectory(path.join(out, 'test'), { verbose: false }).size, 2);
  const meta = await (await import('sharp')).default(train.files[0]).metadata();
  assert.deepEqual([meta.width, meta.height], [10, 8], 'cropped to the 1-based inclusive bbox');
  fs.rmSync(path.join(root, 'images', 'cars_test'), { recursive: true });
  await assert.rejects(
    prepareStanfordCars({
      outDir: path.join(root, 'cars2'),
      imagesDir: path.join(root, 'images'),
      labelsCsv: path.join(root, 'labels.csv'),
      progress: false,
    }),
    /2 Stanford Cars images are missing.*cars_test/,
  );
});
