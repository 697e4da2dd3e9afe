// The one summary line each dataset prints under Keras' "Found N files belonging to C classes.":
// images per class, what the listing skipped and why, the formats (from the files' headers, not
// their names), the smallest image and how many photos carry an EXIF rotation, plus a warning when
// the classes are strongly imbalanced. Headers only, so it costs a fraction of a second.
import * as path from 'node:path';
import { readImageHeader } from './headers';
import { toPlainText } from '../io/text';

/** Largest class / smallest class at or above which the summary warns (5:1). */
export const IMBALANCE_WARN_RATIO = 5;

export interface SkippedByListing {
  hidden?: string[];
  notImages?: string[];
  danglingLinks?: string[];
  loops?: string[];
  unfollowedLinks?: string[];
}

export interface DatasetSummary {
  /** Images per class, in class order. */
  perClass: { className: string; count: number }[];
  /** Files by format read from their headers ('JPEG', 'PNG', ...). */
  formats: Record<string, number>;
  /** Files whose header is not an image this library reads (corrupt, cut short, or another format). */
  unreadable: string[];
  /** The image with the fewest pixels. */
  smallest: { file: string; width: number; height: number } | null;
  /** Photos whose EXIF orientation is not upright (used as stored unless exifTranspose). */
  exifRotated: string[];
  /** Largest class count / smallest class count (Infinity when a class has none). */
  imbalance: number;
  line: string;
  /** Set when imbalance >= IMBALANCE_WARN_RATIO. */
  warning?: string;
}

const short = (files: string[], n = 2) =>
  files
    .slice(0, n)
    .map((f) => path.basename(f))
    .join(', ') + (files.length > n ? ', …' : '');

/** Summarise a dataset's files (headers read synchronously). */
export function summarizeDataset(
  files: readonly string[],
  labels: readonly number[],
  classNames: readonly string[],
  skipped: SkippedByListing = {},
  exifTranspose = false,
): DatasetSummary {
  const counts = classNames.map(() => 0);
  for (const l of labels) counts[l]++;
  const formats: Record<string, number> = {};
  const unreadable: string[] = [];
  const exifRotated: string[] = [];
  let smallest: DatasetSummary['smallest'] = null;
  for (const f of files) {
    const h = readImageHeader(f);
    if (!h) {
      unreadable.push(f);
      continue;
    }
    formats[h.format] = (formats[h.format] ?? 0) + 1;
    if (h.orientation && h.orientation !== 1) exifRotated.push(f);
    if (!smallest || h.width * h.height < smallest.width * smallest.height)
      smallest = { file: f, width: h.width, height: h.height };
  }
  const perClass = classNames.map((className, i) => ({ className, count: counts[i] }));
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  const imbalance = min === 0 ? Infinity : max / min;
  const name = (s: string) => JSON.stringify(toPlainText(s));
  const classes =
    perClass.length <= 8
      ? perClass.map((c) => `${name(c.className)} ${c.count}`).join(', ')
      : `${min}–${max} per class`;
  const parts = [`${files.length} images in ${classNames.length} classes (${classes})`];
  const skip: string[] = [];
  if (skipped.hidden?.length)
    skip.push(`${skipped.hidden.length} hidden (${toPlainText(short(skipped.hidden))})`);
  if (skipped.notImages?.length)
    skip.push(`${skipped.notImages.length} not images (${toPlainText(short(skipped.notImages))})`);
  if (skipped.danglingLinks?.length) skip.push(`${skipped.danglingLinks.length} dangling links`);
  if (skipped.loops?.length) skip.push(`${skipped.loops.length} link loops`);
  if (skipped.unfollowedLinks?.length)
    skip.push(`${skipped.unfollowedLinks.length} linked folders (followLinks: true to read them)`);
  parts.push(skip.length ? `skipped ${skip.join(', ')}` : 'nothing skipped');
  const fmt = Object.entries(formats)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  parts.push(`formats ${fmt || 'none'}`);
  if (unreadable.length)
    parts.push(
      `${unreadable.length} unreadable (${toPlainText(short(unreadable))}: an error when loaded, or onCorrupt: 'skip')`,
    );
  if (smallest)
    parts.push(
      `smallest ${smallest.width}×${smallest.height} (${toPlainText(path.basename(smallest.file))})`,
    );
  if (exifRotated.length)
    parts.push(
      `${exifRotated.length} with an EXIF rotation (${exifTranspose ? 'applied' : 'used as stored, as Keras'})`,
    );
  const line = `Summary: ${parts.join('; ')}.`;
  let warning: string | undefined;
  if (imbalance >= IMBALANCE_WARN_RATIO) {
    const big = perClass[counts.indexOf(max)].className;
    const small = perClass[counts.indexOf(min)].className;
    warning =
      `Warning: strong class imbalance: ${name(big)} has ${max} images, ${name(small)} ${min} ` +
      `(${Number.isFinite(imbalance) ? `${imbalance.toFixed(1)}:1` : 'none'}). Accuracy will mostly ` +
      `reflect the large classes: read the per-class report, and add images to the small classes.`;
  }
  return { perClass, formats, unreadable, smallest, exifRotated, imbalance, line, warning };
}

/** Print the summary line (and the imbalance warning) unless verbose is false. */
export function printDatasetSummary(s: DatasetSummary, verbose: boolean | undefined): void {
  if (verbose === false) return;
  console.log(s.line);
  if (s.warning) console.warn(s.warning);
}
