// Where a notebook's images come from: the real dataset when its env variable points at it, else
// the embedded synthetic stand-in generated (once, cached) under .cache/. Either way the notebook
// gets the same folder layout and is told which one it is using.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, dataDirFromEnv } from '../config';
import { showMarkdown } from '../display';
import { markdownCode } from '../io/text';
import { makeSyntheticSigns } from './synthetic';

export interface DataFolders {
  source: 'real' | 'synthetic';
  /** Which dataset the folders hold (or stand in for). */
  dataset: 'gtsrb' | 'cars';
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

interface Layout {
  env: 'GTSRB_DIR' | 'CARS_DIR';
  layout: 'gtsrb' | 'cars';
  folders: { train: string; valid: string; test: string; csv?: string };
  what: string;
  fix: string;
  realLabel: (dir: string) => string;
  syntheticLabel: string;
  notice: (r: DataFolders, f: SyntheticFallback) => string;
}

const LAYOUTS: Record<'gtsrb' | 'cars', Layout> = {
  gtsrb: {
    env: 'GTSRB_DIR',
    layout: 'gtsrb',
    folders: { train: 'Train', valid: 'Valid', test: 'Test', csv: 'Test.csv' },
    what: 'GTSRB',
    fix: 'Point GTSRB_DIR at a folder with Train/, Valid/, Test/ and Test.csv (npm run prepare-gtsrb builds one).',
    realLabel: (dir) => `GTSRB (${path.basename(dir)})`,
    syntheticLabel: 'synthetic signs (offline stand-in for GTSRB)',
    notice: (r) =>
      r.source === 'real'
        ? `**Data:** real GTSRB images from ${markdownCode(r.root)}.`
        : `**Data:** GTSRB_DIR is not set, so this run uses **synthetic traffic signs** generated offline in ${markdownCode(path.relative(process.cwd(), r.root))} (same folder layout). Set \`GTSRB_DIR\` (e.g. \`GTSRB_DIR=../shared/data/gtsrb-40\`, or \`npm run prepare-gtsrb\`) for the real dataset.`,
  },
  cars: {
    env: 'CARS_DIR',
    layout: 'cars',
    folders: { train: 'train', valid: 'validation', test: 'test' },
    what: 'Stanford Cars',
    fix: 'Point CARS_DIR at the output of `npm run prepare-cars` (train/, validation/, test/ with one folder per car model).',
    realLabel: (dir) => `Stanford Cars (${path.basename(dir)})`,
    syntheticLabel: 'synthetic images (offline stand-in for Stanford Cars)',
    notice: (r, f) =>
      r.source === 'real'
        ? `**Data:** Stanford Cars from ${markdownCode(r.root)}.`
        : `**Data:** CARS_DIR is not set, so this run uses a **synthetic stand-in** (generated offline in ${markdownCode(path.relative(process.cwd(), r.root))}, same train/validation/test class-folder layout, ${f.classes} classes). Prepare the real dataset with \`npm run prepare-cars\` and set \`CARS_DIR\`.`,
  },
};

/** The training / validation / test folder names under a dataset's root (GTSRB_DIR: Train, Valid, Test). */
export function splitFolderNames(env: 'GTSRB_DIR' | 'CARS_DIR'): [string, string, string] {
  const l = Object.values(LAYOUTS).find((x) => x.env === env)!;
  return [l.folders.train, l.folders.valid, l.folders.test];
}

async function dataFolders(
  l: Layout,
  fallback: SyntheticFallback,
  opts: { show?: boolean },
): Promise<DataFolders> {
  const dir = dataDirFromEnv(l.env);
  let r: DataFolders;
  if (dir) {
    const at = (sub: string, role: string) =>
      mustExist(path.join(dir, sub), `${l.what} ${role}`, l.fix);
    r = {
      source: 'real',
      dataset: l.layout,
      label: l.realLabel(dir),
      root: dir,
      trainDir: at(l.folders.train, 'training folder'),
      validDir: at(l.folders.valid, 'validation folder'),
      testDir: at(l.folders.test, 'test folder'),
      testCsv: l.folders.csv ? at(l.folders.csv, 'test labels') : undefined,
    };
  } else {
    const f = fallback;
    const out = path.join(
      CACHE_DIR,
      'synthetic',
      `${l.layout}-${f.classes}c-${f.size}px-${f.trainPerClass}-${f.validPerClass}-${f.testPerClass}`,
    );
    const s = await makeSyntheticSigns(out, { ...f, layout: l.layout, progress: false });
    r = {
      source: 'synthetic',
      dataset: l.layout,
      label: l.syntheticLabel,
      root: s.dir,
      trainDir: s.trainDir,
      validDir: s.validDir,
      testDir: s.testDir,
      testCsv: s.testCsv,
    };
  }
  if (opts.show !== false) showMarkdown(l.notice(r, fallback));
  return r;
}

/**
 * GTSRB in the walkthrough's 40-per-class layout (Train/<id>/, Valid/<id>/, Test/ + Test.csv) from
 * GTSRB_DIR, or synthetic signs in the same layout when GTSRB_DIR is unset.
 */
export function gtsrbFolders(
  fallback: SyntheticFallback,
  opts: { show?: boolean } = {},
): Promise<DataFolders> {
  return dataFolders(LAYOUTS.gtsrb, fallback, opts);
}

/**
 * Stanford Cars as train/ validation/ test/ class-name folders from CARS_DIR (npm run prepare-cars),
 * or the synthetic set in the same layout when CARS_DIR is unset.
 */
export function carsFolders(
  fallback: SyntheticFallback,
  opts: { show?: boolean } = {},
): Promise<DataFolders> {
  return dataFolders(LAYOUTS.cars, fallback, opts);
}
