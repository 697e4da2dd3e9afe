// Labels from a CSV file: GTSRB's Test.csv (',') and the official per-class GT-*.csv (';').
// Each label value is looked up by NAME in the training set's classNames, so with folders sorted as
// strings ('0','1','10',...) the label '10' becomes index 2, exactly where the model learned it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ImageDataset, LabelMode } from './types';
import { createImageDataset, type ImageLoadOptions } from './dataset';
import { checkSplit, splitItems, type Subset } from './directory';
import { checkClassNames, pythonSorted } from './names';
import { printDatasetSummary, summarizeDataset } from './summary';

export interface DatasetFromCsvOptions extends ImageLoadOptions {
  /** Column with the image path, relative to baseDir. Default: 'Path' if present, else 'Filename'. */
  imageColumn?: string;
  /** Column with the class label. Default 'ClassId'. */
  labelColumn?: string;
  /** Field separator; by default detected from the header line (',' or ';'). */
  delimiter?: string;
  /**
   * The training set's class names (e.g. trainDs.classNames); labels are mapped by name into it.
   * 'inferred': the CSV defines the classes (a training CSV): its distinct labels, in numeric order
   * when every label is an integer, else in Python's sorted() order (as Keras sorts given labels).
   */
  classNames?: string[] | 'inferred';
  /**
   * 'name' (default): label value → index of that name in classNames.
   * 'raw': use the integer label value directly as the index — the walkthrough's pitfall, for showing it.
   */
  labelMapping?: 'name' | 'raw';
  /** Folder image paths are relative to. Default: the CSV's folder. */
  baseDir?: string;
  /** Crop each image to its Roi.X1/Roi.Y1/Roi.X2/Roi.Y2 columns (GTSRB) before resizing. */
  cropToRoi?: boolean;
  labelMode?: LabelMode;
  /**
   * Read image paths that lead outside baseDir ('../other/x.jpg', '/home/x.jpg'). Default false: a
   * CSV from elsewhere cannot make the notebook read (and show, and export) any file on the disk.
   */
  allowPathsOutside?: boolean;
  /** Fraction held out (with subset and seed), as imageDatasetFromDirectory. */
  validationSplit?: number | null;
  subset?: Subset | null;
  /** Split each class separately (see imageDatasetFromDirectory). */
  stratify?: boolean;
}

/** A data row and the line of the CSV file it ends on (csv-parse counts quoted line breaks). */
export interface CsvRecord {
  record: Record<string, string>;
  line: number;
}

/** Read a delimited file into records, detecting ',' vs ';' from the header line. */
export function readCsvRecords(csvPath: string, delimiter?: string): Record<string, string>[] {
  return readCsvLines(csvPath, delimiter).map((r) => r.record);
}

/** readCsvRecords with each record's line number in the file, for errors that name the line. */
export function readCsvLines(csvPath: string, delimiter?: string): CsvRecord[] {
  if (!fs.existsSync(csvPath))
    throw new Error(
      `CSV file not found: ${csvPath}. Check the path (GTSRB's labels are Test.csv or GT-<class>.csv).`,
    );
  const text = fs.readFileSync(csvPath, 'utf8');
  const header = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length);
  const sep = delimiter ?? (header.split(';').length > header.split(',').length ? ';' : ',');
  try {
    const rows = parse(text, {
      columns: true,
      delimiter: sep,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
    }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
    return rows.map((r) => ({ record: r.record, line: r.info.lines }));
  } catch (e) {
    throw new Error(`Cannot parse ${csvPath} as CSV (delimiter '${sep}'): ${(e as Error).message}`);
  }
}

/**
 * A dataset whose files and labels come from one or more CSV files (several: e.g. every GT-*.csv
 * of GTSRB's official training set; each one's paths are relative to its own folder).
 * Not shuffled unless asked (it is usually a test set).
 */
export function datasetFromCsv(
  csvPath: string | string[],
  opts: DatasetFromCsvOptions = {},
): ImageDataset {
  const csvs = Array.isArray(csvPath) ? csvPath : [csvPath];
  const mapping = opts.labelMapping ?? 'name';
  const labelColumn = opts.labelColumn ?? 'ClassId';
  const rows: {
    file: string;
    label: string;
    where: string;
    roi: [number, number, number, number] | null;
  }[] = [];
  for (const csv of csvs) {
    const records = readCsvLines(csv, opts.delimiter);
    if (!records.length) throw new Error(`${csv} has no data rows.`);
    const columns = Object.keys(records[0].record);
    const imageColumn = opts.imageColumn ?? (columns.includes('Path') ? 'Path' : 'Filename');
    for (const c of [imageColumn, labelColumn]) {
      if (!columns.includes(c))
        throw new Error(
          `${csv} has no column '${c}' (columns: ${columns.join(', ')}). Pass imageColumn / labelColumn.`,
        );
    }
    const base = path.resolve(opts.baseDir ?? path.dirname(path.resolve(csv)));
    for (const { record: r, line } of records) {
      const where = `${csv} line ${line}`;
      const value = r[imageColumn] ?? '';
      if (!value)
        throw new Error(
          `${where}: the '${imageColumn}' column is empty; give each row an image path.`,
        );
      const file = path.resolve(base, value);
      const rel = path.relative(base, file);
      if (!opts.allowPathsOutside && (rel.startsWith('..') || path.isAbsolute(rel))) {
        throw new Error(
          `${where}: the image path ${JSON.stringify(value)} leads outside the dataset folder ${base}. ` +
            `Move the image into that folder and give its path relative to it, set baseDir to a folder that holds every image, or pass allowPathsOutside: true if the CSV is yours.`,
        );
      }
      const roi = opts.cropToRoi
        ? (['Roi.X1', 'Roi.Y1', 'Roi.X2', 'Roi.Y2'].map((c) => Number(r[c])) as [
            number,
            number,
            number,
            number,
          ])
        : null;
      if (roi && roi.some((v) => !Number.isFinite(v)))
        throw new Error(
          `${where}: cropToRoi needs numeric Roi.X1, Roi.Y1, Roi.X2, Roi.Y2 columns.`,
        );
      rows.push({ file, label: String(r[labelColumn] ?? '').trim(), where, roi });
    }
  }
  let classNames = opts.classNames === 'inferred' ? inferClassNames(rows) : opts.classNames;
  if (!classNames) {
    if (mapping === 'name') {
      throw new Error(
        `datasetFromCsv(${csvs[0]}): pass classNames (the training set's, e.g. trainDs.classNames) so each label maps to the class the model learned.`,
      );
    }
    const max = Math.max(...rows.map((r) => Number(r.label)));
    classNames = Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  checkClassNames(
    classNames,
    `datasetFromCsv(${csvs[0]})`,
    "Pass the training set's classNames (each class once, none empty).",
  );
  const index = new Map(classNames.map((c, i) => [c, i]));
  let labels = rows.map((r) => {
    if (mapping === 'raw') {
      const v = Number(r.label);
      if (!Number.isInteger(v) || v < 0 || v >= classNames!.length) {
        throw new Error(
          `${r.where}: raw label '${r.label}' is not an index 0..${classNames!.length - 1}.`,
        );
      }
      return v;
    }
    const i = index.get(r.label);
    if (i === undefined) {
      throw new Error(
        `${r.where}: label '${r.label}' is not one of the ${classNames!.length} training classes (${classNames!.slice(0, 6).join(', ')}, ...). Check labelColumn and classNames.`,
      );
    }
    return i;
  });
  const missing = rows.filter((r) => !fs.existsSync(r.file));
  if (missing.length) {
    throw new Error(
      `${missing[0].where}: image ${missing[0].file} not found${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}. Check baseDir (image paths are relative to it).`,
    );
  }
  const split = checkSplit(opts.validationSplit, opts.subset, 'datasetFromCsv');
  let kept = rows.map((r, i) => ({ ...r, label: labels[i] }));
  if (split) {
    if (opts.seed === undefined)
      throw new Error(
        'datasetFromCsv: with validationSplit, pass a seed so the subsets do not overlap.',
      );
    kept = splitItems(kept, {
      validationSplit: opts.validationSplit!,
      subset: opts.subset!,
      seed: opts.seed,
      stratify: opts.stratify,
    });
  }
  labels = kept.map((r) => r.label);
  if (opts.verbose ?? true) {
    console.log(
      `Found ${rows.length} images in ${csvs.length === 1 ? path.basename(csvs[0]) : `${csvs.length} CSV files`} belonging to ${new Set(rows.map((r) => r.label)).size} classes.`,
    );
    if (split) console.log(`Using ${kept.length} files for ${opts.subset}.`);
  }
  const ds = createImageDataset(
    {
      files: kept.map((r) => r.file),
      labels,
      classNames,
      labelMode: opts.labelMode === undefined ? 'int' : opts.labelMode,
      crops: opts.cropToRoi ? kept.map((r) => r.roi) : undefined,
      defaultImageSize: [256, 256],
      defaultInterpolation: 'bilinear',
    },
    { ...opts, shuffle: opts.shuffle ?? false },
  );
  if (opts.verbose ?? true)
    printDatasetSummary(
      summarizeDataset(ds.files, ds.labels, ds.classNames, {}, ds.exifTranspose),
      true,
    );
  return ds;
}

/** The classes a training CSV defines: numeric order when every label is an integer, else sorted(). */
function inferClassNames(rows: { label: string; where: string }[]): string[] {
  const empty = rows.find((r) => r.label === '');
  if (empty) throw new Error(`${empty.where}: the label is empty; give every row a class.`);
  const distinct = [...new Set(rows.map((r) => r.label))];
  return distinct.every((l) => /^\d+$/.test(l))
    ? distinct.sort((a, b) => Number(a) - Number(b))
    : pythonSorted(distinct);
}
