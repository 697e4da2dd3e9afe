// Stanford Cars → train/ validation/ test/ folders named by class name ("AM General Hummer SUV 2000"),
// from the official devkit (.mat files) or the common labels CSV re-packaging; stratified validation
// split with a seed; optional crop to the annotated bounding box.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mapConcurrent } from '../decode';
import { readCsvRecords } from '../csv';
import { rngFor, shuffled } from '../../rng';
import { buildAtomically, markerMatches } from './atomic';
import { progressReporter } from '../../io/progress';
import { readMatFile } from './matfile';

export interface CarsAnnotation {
  fname: string;
  /** 0-based class index into classNames. */
  classIndex: number;
  bbox: [number, number, number, number]; // x1, y1, x2, y2 (1-based, inclusive, as in the devkit)
  isTest: boolean;
}

export interface CarsAnnotations {
  classNames: string[];
  annotations: CarsAnnotation[];
}

// Our own MAT-file reader (the devkit annotations are MATLAB v5 files).
export { readMatFile } from './matfile';

const num = (v: unknown): number => Number(Array.isArray(v) ? v[0] : v);

/**
 * Annotations from the devkit folder. Test labels come from cars_test_annos_withlabels.mat when
 * present; cars_test_annos.mat has no classes, so those test images are left out (with a note).
 */
export function readCarsDevkit(devkitDir: string): CarsAnnotations & { testLabelled: boolean } {
  const metaFile = path.join(devkitDir, 'cars_meta.mat');
  if (!fs.existsSync(metaFile))
    throw new Error(
      `${metaFile} not found: pass the Stanford Cars devkit folder (cars_meta.mat, cars_train_annos.mat, optionally cars_test_annos_withlabels.mat).`,
    );
  const meta = readMatFile(metaFile);
  const classNames = (meta.class_names as string[]).map((s) => String(s).trim());
  const out: CarsAnnotation[] = [];
  const add = (file: string, isTest: boolean) => {
    const annos = readMatFile(file).annotations as Record<string, unknown>[];
    for (const a of annos) {
      if (a.class === undefined) continue;
      out.push({
        fname: String(a.fname),
        classIndex: num(a.class) - 1,
        bbox: [num(a.bbox_x1), num(a.bbox_y1), num(a.bbox_x2), num(a.bbox_y2)],
        isTest,
      });
    }
  };
  add(path.join(devkitDir, 'cars_train_annos.mat'), false);
  const labelled = path.join(devkitDir, 'cars_test_annos_withlabels.mat');
  const testLabelled = fs.existsSync(labelled);
  if (testLabelled) add(labelled, true);
  return { classNames, annotations: out, testLabelled };
}

/** Annotations from the labels CSV re-packaging (filename, bbox_*, class_id 1-based, class_name, is_test). */
export function readCarsCsv(csvPath: string): CarsAnnotations {
  const rows = readCsvRecords(csvPath);
  for (const c of ['filename', 'class_id', 'class_name', 'is_test', 'bbox_x1']) {
    if (rows.length && !(c in rows[0]))
      throw new Error(
        `${csvPath} has no column '${c}': expected filename,bbox_x1,...,class_id,class_name,is_test.`,
      );
  }
  const names = new Map<number, string>();
  for (const r of rows) names.set(Number(r.class_id), r.class_name.trim());
  const ids = [...names.keys()].sort((a, b) => a - b);
  const classNames = Array.from(
    { length: ids[ids.length - 1] },
    (_, i) => names.get(i + 1) ?? `class ${i + 1}`,
  );
  return {
    classNames,
    annotations: rows.map((r) => ({
      fname: r.filename,
      classIndex: Number(r.class_id) - 1,
      isTest: r.is_test === '1' || r.is_test.toLowerCase() === 'true',
      bbox: [Number(r.bbox_x1), Number(r.bbox_y1), Number(r.bbox_x2), Number(r.bbox_y2)],
    })),
  };
}

/** Class names as folder names ("Ram C/V Cargo Van Minivan 2012" has a slash). */
export function carsFolderName(name: string): string {
  return name.replace(/[/\\:*?"<>|]/g, '-').trim();
}

export interface CarsSplitEntry extends CarsAnnotation {
  split: 'train' | 'validation' | 'test';
}

/** Stratified split: per class, a seeded shuffle puts round(n · validationSplit) training images in validation. */
export function splitCars(
  annotations: CarsAnnotation[],
  validationSplit: number,
  seed: number,
): CarsSplitEntry[] {
  const out: CarsSplitEntry[] = annotations
    .filter((a) => a.isTest)
    .map((a) => ({ ...a, split: 'test' as const }));
  const byClass = new Map<number, CarsAnnotation[]>();
  for (const a of annotations)
    if (!a.isTest) byClass.set(a.classIndex, [...(byClass.get(a.classIndex) ?? []), a]);
  for (const [c, list] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const order = shuffled(list, rngFor(seed, c));
    const nVal = Math.round(order.length * validationSplit);
    order.forEach((a, i) => out.push({ ...a, split: i < nVal ? 'validation' : 'train' }));
  }
  return out;
}

export interface PrepareCarsOptions {
  outDir: string;
  /** Folder with cars_train/ and cars_test/ (the image archives extracted). */
  imagesDir: string;
  /** Devkit folder with the .mat files, or... */
  devkitDir?: string;
  /** ...the labels CSV re-packaging (used when given). */
  labelsCsv?: string;
  validationSplit?: number; // default 0.2
  seed?: number; // default 42
  /** Crop each image to its annotated bounding box. */
  cropToBbox?: boolean;
  overwrite?: boolean;
  progress?: boolean;
}

/** Prepare the class-name folder layout. Returns the output folder. */
export async function prepareStanfordCars(opts: PrepareCarsOptions): Promise<string> {
  const outDir = path.resolve(opts.outDir);
  const progress = opts.progress ?? true;
  const validationSplit = opts.validationSplit ?? 0.2,
    seed = opts.seed ?? 42,
    crop = opts.cropToBbox ?? false;
  const marker = {
    kind: 'stanford-cars',
    version: 1,
    validationSplit,
    seed,
    cropToBbox: crop,
    source: opts.labelsCsv ? 'csv' : 'devkit',
  };
  if (markerMatches(outDir, marker)) return outDir;
  let ann: CarsAnnotations;
  if (opts.labelsCsv) ann = readCarsCsv(opts.labelsCsv);
  else if (opts.devkitDir) {
    const d = readCarsDevkit(opts.devkitDir);
    if (!d.testLabelled && progress)
      console.log(
        `Note: ${opts.devkitDir} has no cars_test_annos_withlabels.mat, so test/ stays empty (or pass labelsCsv).`,
      );
    ann = d;
  } else
    throw new Error(
      'prepareStanfordCars: pass devkitDir (the .mat files) or labelsCsv (labels_df.csv-style CSV).',
    );
  const srcOf = (a: CarsAnnotation) =>
    path.join(opts.imagesDir, a.isTest ? 'cars_test' : 'cars_train', a.fname);
  const missing = ann.annotations.filter((a) => !fs.existsSync(srcOf(a)));
  if (missing.length) {
    throw new Error(
      `${missing.length} Stanford Cars images are missing, e.g. ${srcOf(missing[0])}. The original Stanford URL is gone and ` +
        `mirrors differ: download cars_train.tgz and cars_test.tgz from a mirror you trust and extract them into ` +
        `${path.resolve(opts.imagesDir)} (giving cars_train/ and cars_test/), then run again.`,
    );
  }
  const entries = splitCars(ann.annotations, validationSplit, seed);
  const folders = ann.classNames.map(carsFolderName);
  await buildAtomically(
    outDir,
    marker,
    async (tmp) => {
      for (const split of ['train', 'validation', 'test'])
        for (const f of folders) fs.mkdirSync(path.join(tmp, split, f), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'class_names.json'), JSON.stringify(ann.classNames, null, 1));
      const bar = progressReporter('Stanford Cars images', {
        total: entries.length,
        enabled: progress,
      });
      await mapConcurrent(entries, 8, async (e) => {
        const dest = path.join(tmp, e.split, folders[e.classIndex], e.fname);
        if (!crop) await fs.promises.copyFile(srcOf(e), dest);
        else {
          const img = sharp(srcOf(e));
          const { width = 0, height = 0 } = await img.metadata();
          const left = Math.max(0, Math.min(width - 1, e.bbox[0] - 1)),
            top = Math.max(0, Math.min(height - 1, e.bbox[1] - 1));
          const w = Math.max(1, Math.min(width - left, e.bbox[2] - e.bbox[0] + 1)),
            h = Math.max(1, Math.min(height - top, e.bbox[3] - e.bbox[1] + 1));
          await img.extract({ left, top, width: w, height: h }).jpeg({ quality: 95 }).toFile(dest);
        }
        bar.tick();
      });
      bar.done();
    },
    opts.overwrite ?? false,
  );
  if (progress)
    console.log(
      `Stanford Cars ready in ${outDir}: ${entries.filter((e) => e.split === 'train').length} train, ${entries.filter((e) => e.split === 'validation').length} validation, ${entries.filter((e) => e.split === 'test').length} test images.`,
    );
  return outDir;
}
