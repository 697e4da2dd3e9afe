// GTSRB → the walkthrough's small layout: Train/<id>/ (28 per class) + Valid/<id>/ (12 per class),
// picked as every n-th frame so near-duplicate video frames are spread out, plus Test/ + Test.csv.
// Sources: the official archives (PPM + per-class GT-*.csv with ';'), downloaded or placed by hand,
// or the common re-packaging (Train/<id>/*.png, Test/*.png, Test.csv).
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeImageFile, mapConcurrent } from '../decode';
import { readCsvRecords } from '../csv';
import { buildAtomically, markerMatches } from './atomic';
import { downloadFile } from '../../io/download';
import { extractZip } from './zip';
import { progressReporter } from '../../io/progress';

export const GTSRB_BASE_URL =
  'https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/';
export const GTSRB_ARCHIVES = [
  { file: 'GTSRB_Final_Training_Images.zip', md5: 'f33fd80ac59bff73c82d25ab499e03a3' },
  { file: 'GTSRB_Final_Test_Images.zip', md5: 'c7e4e6327067d32654124b0fe9e82185' },
  { file: 'GTSRB_Final_Test_GT.zip', md5: 'fe31e9c9270bbcd7b84b7f21a9d9d9e5' },
];

export interface PrepareGtsrbOptions {
  /** Where the small layout is written (Train/, Valid/, Test/, Test.csv). */
  outDir: string;
  /** An extracted official GTSRB or a Train/+Test.csv re-packaging. Omit to download the official archives. */
  sourceDir?: string;
  /** Where archives are downloaded and extracted (default: <outDir>-downloads). */
  downloadDir?: string;
  baseUrl?: string;
  trainPerClass?: number; // 28
  validPerClass?: number; // 12
  /** Keep every n-th test image (1 = all 12,630). */
  testEvery?: number;
  overwrite?: boolean;
  progress?: boolean;
}

interface Item {
  src: string;
  classId: number;
  name: string;
  roi?: string[];
}

/** Indices of `k` items spread evenly over `n` (every n/k-th). */
export function everyNth(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
}

/** Which of the `t + v` picks go to validation: spread evenly (e.g. 3 of every 10 for 28 + 12). */
export function isValidationPick(i: number, t: number, v: number): boolean {
  return Math.floor(((i + 1) * v) / (t + v)) > Math.floor((i * v) / (t + v));
}

/** Find the training classes and test images in either source layout. */
function readSource(src: string): { train: Item[]; test: Item[]; header: string[] } {
  const official = [
    path.join(src, 'GTSRB', 'Final_Training', 'Images'),
    path.join(src, 'Final_Training', 'Images'),
    src,
  ].find(
    (d) =>
      fs.existsSync(d) &&
      fs
        .readdirSync(d)
        .some((n) => /^\d{5}$/.test(n) && fs.existsSync(path.join(d, n, `GT-${n}.csv`))),
  );
  const train: Item[] = [];
  const test: Item[] = [];
  if (official) {
    for (const cls of fs
      .readdirSync(official)
      .filter((n) => /^\d{5}$/.test(n))
      .sort()) {
      for (const r of readCsvRecords(path.join(official, cls, `GT-${cls}.csv`))) {
        train.push({
          src: path.join(official, cls, r.Filename),
          classId: Number(r.ClassId),
          name: r.Filename,
        });
      }
    }
    const testDir = [
      path.join(src, 'GTSRB', 'Final_Test', 'Images'),
      path.join(src, 'Final_Test', 'Images'),
    ].find((d) => fs.existsSync(d));
    const gt = [
      path.join(src, 'GT-final_test.csv'),
      path.join(src, 'GTSRB', 'GT-final_test.csv'),
      testDir && path.join(testDir, 'GT-final_test.csv'),
    ].find((f) => f && fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('ClassId'));
    if (!testDir || !gt) {
      throw new Error(
        `GTSRB test set not found under ${src}: extract GTSRB_Final_Test_Images.zip there (GTSRB/Final_Test/Images/*.ppm) and GTSRB_Final_Test_GT.zip (GT-final_test.csv, with ClassId) beside it.`,
      );
    }
    for (const r of readCsvRecords(gt))
      test.push({
        src: path.join(testDir, r.Filename),
        classId: Number(r.ClassId),
        name: r.Filename,
        roi: [r.Width, r.Height, r['Roi.X1'], r['Roi.Y1'], r['Roi.X2'], r['Roi.Y2']],
      });
    return { train, test, header: [] };
  }
  if (fs.existsSync(path.join(src, 'Train')) && fs.existsSync(path.join(src, 'Test.csv'))) {
    for (const cls of fs.readdirSync(path.join(src, 'Train')).filter((n) => /^\d+$/.test(n))) {
      for (const f of fs.readdirSync(path.join(src, 'Train', cls)).sort()) {
        if (/\.(png|ppm|jpg)$/i.test(f))
          train.push({ src: path.join(src, 'Train', cls, f), classId: Number(cls), name: f });
      }
    }
    for (const r of readCsvRecords(path.join(src, 'Test.csv'))) {
      test.push({
        src: path.join(src, r.Path),
        classId: Number(r.ClassId),
        name: path.basename(r.Path),
        roi: [r.Width, r.Height, r['Roi.X1'], r['Roi.Y1'], r['Roi.X2'], r['Roi.Y2']],
      });
    }
    return { train, test, header: [] };
  }
  throw new Error(
    `No GTSRB data found in ${src}. Expected the official layout (GTSRB/Final_Training/Images/00000/GT-00000.csv, ` +
      `GTSRB/Final_Test/Images/, GT-final_test.csv) or the re-packaging (Train/<id>/, Test/, Test.csv).`,
  );
}

/** Write one image as PNG (PPM is decoded by our reader; PNG is copied as is). */
async function writeAsPng(src: string, dest: string): Promise<void> {
  if (/\.png$/i.test(src)) return fs.promises.copyFile(src, dest);
  const img = await decodeImageFile(src);
  await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toFile(dest);
}

async function downloadOfficial(dir: string, baseUrl: string, progress: boolean): Promise<string> {
  const extracted = path.join(dir, 'extracted');
  if (fs.existsSync(path.join(extracted, '.complete'))) return extracted;
  for (const a of GTSRB_ARCHIVES)
    await downloadFile(baseUrl + a.file, path.join(dir, a.file), { md5: a.md5, quiet: !progress });
  fs.rmSync(extracted, { recursive: true, force: true });
  for (const a of GTSRB_ARCHIVES) {
    if (progress) console.log(`extracting ${a.file}`);
    await extractZip(path.join(dir, a.file), extracted);
  }
  fs.writeFileSync(path.join(extracted, '.complete'), '');
  return extracted;
}

/** Prepare the GTSRB-40 layout. Returns the output folder. Reuses an identical earlier result. */
export async function prepareGtsrb(opts: PrepareGtsrbOptions): Promise<string> {
  const t = opts.trainPerClass ?? 28,
    v = opts.validPerClass ?? 12,
    every = opts.testEvery ?? 1;
  const outDir = path.resolve(opts.outDir);
  const progress = opts.progress ?? true;
  const marker = {
    kind: 'gtsrb-small',
    version: 1,
    trainPerClass: t,
    validPerClass: v,
    testEvery: every,
  };
  if (markerMatches(outDir, marker)) {
    if (progress) console.log(`${outDir} is already prepared.`);
    return outDir;
  }
  const src = opts.sourceDir
    ? path.resolve(opts.sourceDir)
    : await downloadOfficial(
        path.resolve(opts.downloadDir ?? `${outDir}-downloads`),
        opts.baseUrl ?? GTSRB_BASE_URL,
        progress,
      );
  const { train, test } = readSource(src);
  const byClass = new Map<number, Item[]>();
  for (const it of train) byClass.set(it.classId, [...(byClass.get(it.classId) ?? []), it]);
  const jobs: { item: Item; dest: string }[] = [];
  const testRows: string[] = [];
  await buildAtomically(
    outDir,
    marker,
    async (tmp) => {
      for (const [classId, items] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
        items.sort((a, b) => (a.name < b.name ? -1 : 1));
        const picks = everyNth(items.length, t + v);
        for (const split of ['Train', 'Valid'])
          fs.mkdirSync(path.join(tmp, split, String(classId)), { recursive: true });
        picks.forEach((idx, i) => {
          const split = picks.length === t + v && isValidationPick(i, t, v) ? 'Valid' : 'Train';
          jobs.push({
            item: items[idx],
            dest: path.join(tmp, split, String(classId), items[idx].name.replace(/\.\w+$/, '.png')),
          });
        });
      }
      fs.mkdirSync(path.join(tmp, 'Test'));
      test.forEach((it, i) => {
        if (i % every) return;
        const name = it.name.replace(/\.\w+$/, '.png');
        jobs.push({ item: it, dest: path.join(tmp, 'Test', name) });
        testRows.push([...(it.roi ?? []), it.classId, `Test/${name}`].join(','));
      });
      fs.writeFileSync(
        path.join(tmp, 'Test.csv'),
        `Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n${testRows.join('\n')}\n`,
      );
      const bar = progressReporter('GTSRB images', { total: jobs.length, enabled: progress });
      await mapConcurrent(jobs, 8, async (j) => {
        await writeAsPng(j.item.src, j.dest);
        bar.tick();
      });
      bar.done();
    },
    opts.overwrite ?? false,
  );
  if (progress)
    console.log(
      `GTSRB ready in ${outDir}: ${jobs.length - testRows.length} train+valid images, ${testRows.length} test images.`,
    );
  return outDir;
}
