// Where a notebook's images come from: the real dataset when its env variable points at it, else
// the embedded synthetic stand-in generated (once, cached) under .cache/. Either way the notebook
// gets the same folder layout and is told which one it is using.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, dataDirFromEnv } from '../config';
import { showMarkdown } from '../display';
import { makeSyntheticSigns } from './synthetic';

export interface DataFolders {
  source: 'real' | 'synthetic';
  /** "GTSRB-40 (real, /path)" or "synthetic signs (offline stand-in)": for titles and tables. */
  label: string;
  root: string;
  trainDir: string;
  validDir: string;
  testDir: string;
  /** GTSRB layout: the CSV that labels the flat Test/ folder. */
  testCsv?: string;
}

export interface SyntheticFallback {
  classes: number;
  trainPerClass: number;
  validPerClass: number;
  testPerClass: number;
  /** Side of the generated images in pixels. */
  size: number;
  seed?: number;
}

function mustExist(p: string, what: string, fix: string): string {
  if (!fs.existsSync(p)) throw new Error(`${what} not found: ${p}. ${fix}`);
  return p;
}

/**
 * GTSRB in the walkthrough's 40-per-class layout (Train/<id>/, Valid/<id>/, Test/ + Test.csv) from
 * GTSRB_DIR, or synthetic signs in the same layout when GTSRB_DIR is unset.
 */
export async function gtsrbFolders(fallback: SyntheticFallback, opts: { show?: boolean } = {}): Promise<DataFolders> {
  const dir = dataDirFromEnv('GTSRB_DIR');
  let r: DataFolders;
  if (dir) {
    const fix = 'Point GTSRB_DIR at a folder with Train/, Valid/, Test/ and Test.csv (npm run prepare-gtsrb builds one).';
    r = {
      source: 'real', label: `GTSRB (${path.basename(dir)})`, root: dir,
      trainDir: mustExist(path.join(dir, 'Train'), 'GTSRB training folder', fix),
      validDir: mustExist(path.join(dir, 'Valid'), 'GTSRB validation folder', fix),
      testDir: mustExist(path.join(dir, 'Test'), 'GTSRB test folder', fix),
      testCsv: mustExist(path.join(dir, 'Test.csv'), 'GTSRB test labels', fix),
    };
  } else {
    const out = path.join(CACHE_DIR, 'synthetic', `gtsrb-${fallback.classes}c-${fallback.size}px-${fallback.trainPerClass}-${fallback.validPerClass}-${fallback.testPerClass}`);
    const s = await makeSyntheticSigns(out, { ...fallback, layout: 'gtsrb', progress: false });
    r = { source: 'synthetic', label: 'synthetic signs (offline stand-in for GTSRB)', root: s.dir, trainDir: s.trainDir, validDir: s.validDir, testDir: s.testDir, testCsv: s.testCsv };
  }
  if (opts.show !== false) {
    showMarkdown(r.source === 'real'
      ? `**Data:** real GTSRB images from \`${r.root}\`.`
      : `**Data:** GTSRB_DIR is not set, so this run uses **synthetic traffic signs** generated offline in \`${path.relative(process.cwd(), r.root)}\` (same folder layout). Set \`GTSRB_DIR\` (e.g. \`GTSRB_DIR=../shared/data/gtsrb-40\`, or \`npm run prepare-gtsrb\`) for the real dataset.`);
  }
  return r;
}

/**
 * Stanford Cars as train/ validation/ test/ class-name folders from CARS_DIR (npm run prepare-cars),
 * or the synthetic set in the same layout when CARS_DIR is unset.
 */
export async function carsFolders(fallback: SyntheticFallback, opts: { show?: boolean } = {}): Promise<DataFolders> {
  const dir = dataDirFromEnv('CARS_DIR');
  let r: DataFolders;
  if (dir) {
    const fix = 'Point CARS_DIR at the output of `npm run prepare-cars` (train/, validation/, test/ with one folder per car model).';
    r = {
      source: 'real', label: `Stanford Cars (${path.basename(dir)})`, root: dir,
      trainDir: mustExist(path.join(dir, 'train'), 'Stanford Cars training folder', fix),
      validDir: mustExist(path.join(dir, 'validation'), 'Stanford Cars validation folder', fix),
      testDir: mustExist(path.join(dir, 'test'), 'Stanford Cars test folder', fix),
    };
  } else {
    const out = path.join(CACHE_DIR, 'synthetic', `cars-${fallback.classes}c-${fallback.size}px-${fallback.trainPerClass}-${fallback.validPerClass}-${fallback.testPerClass}`);
    const s = await makeSyntheticSigns(out, { ...fallback, layout: 'cars', progress: false });
    r = { source: 'synthetic', label: 'synthetic images (offline stand-in for Stanford Cars)', root: s.dir, trainDir: s.trainDir, validDir: s.validDir, testDir: s.testDir };
  }
  if (opts.show !== false) {
    showMarkdown(r.source === 'real'
      ? `**Data:** Stanford Cars from \`${r.root}\`.`
      : `**Data:** CARS_DIR is not set, so this run uses a **synthetic stand-in** (generated offline in \`${path.relative(process.cwd(), r.root)}\`, same train/validation/test class-folder layout, ${fallback.classes} classes). Prepare the real dataset with \`npm run prepare-cars\` and set \`CARS_DIR\`.`);
  }
  return r;
}
