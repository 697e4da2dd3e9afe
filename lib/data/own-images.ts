// Your own images (notebook 04): where they are (IMAGES_DIR: a folder of class folders, or a CSV
// of paths and labels; without it a generated folder with the mess of a real one), what is wrong
// with them before training (counts, imbalance, corrupt and tiny images, the same picture twice),
// and whether the same picture sits in both the training and the validation split (a leak: the
// validation score then measures memory, not generalisation).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CACHE_DIR, dataDirFromEnv } from '../config';
import { describeAs, showBundle, showMarkdown } from '../display';
import { escapeHtml } from '../io/html';
import { markdownCode, toPlainText } from '../io/text';
import { readCsvLines } from './csv';
import { decodeImageBuffer, mapConcurrent } from './decode';
import { listClassFolders, type ListingSkips } from './directory';
import { pythonSorted } from './names';
import { buildAtomically, markerMatches } from './prepare/atomic';
import { IMBALANCE_WARN_RATIO } from './summary';
import { makeSyntheticSigns } from './synthetic';
import type { ImageDataset } from './types';

export interface ImagesSource {
  /** 'folder': one sub-folder per class; 'csv': a CSV file with image paths and labels. */
  kind: 'folder' | 'csv';
  path: string;
  /** For titles and tables: "your images (/path)" or "generated images (offline stand-in)". */
  label: string;
  source: 'real' | 'generated';
}

export interface GeneratedFolderOptions {
  classes: number;
  perClass: number;
  /** Side of the generated images in pixels. */
  size: number;
  seed?: number;
}

/**
 * The images notebook 04 trains on: IMAGES_DIR (a folder of class folders, or a .csv file whose
 * paths are relative to its folder), else a generated folder with what real folders contain (see
 * makeMessyImageFolder), so the notebook runs offline and every check has something to find.
 */
export async function imagesFromEnv(
  fallback: GeneratedFolderOptions,
  opts: { show?: boolean } = {},
): Promise<ImagesSource> {
  const dir = dataDirFromEnv('IMAGES_DIR');
  let r: ImagesSource;
  if (dir) {
    if (!fs.existsSync(dir))
      throw new Error(
        `IMAGES_DIR is ${dir}, which does not exist. Point it at a folder with one sub-folder per class, or at a CSV file with image paths and labels.`,
      );
    const csv = fs.statSync(dir).isFile();
    if (csv && path.extname(dir).toLowerCase() !== '.csv')
      throw new Error(
        `IMAGES_DIR is the file ${dir}; point it at a folder of class folders or at a .csv file.`,
      );
    r = { kind: csv ? 'csv' : 'folder', path: dir, label: `your images (${dir})`, source: 'real' };
  } else {
    const root = await makeMessyImageFolder(
      path.join(
        CACHE_DIR,
        'synthetic',
        `own-images-${fallback.classes}c-${fallback.perClass}-${fallback.size}px`,
      ),
      fallback,
    );
    r = {
      kind: 'folder',
      path: root,
      label: 'generated images (offline stand-in)',
      source: 'generated',
    };
  }
  if (opts.show !== false)
    showMarkdown(
      r.source === 'real'
        ? `**Data:** ${r.kind === 'csv' ? 'the CSV' : 'the folder'} ${markdownCode(r.path)} (IMAGES_DIR).`
        : `**Data:** IMAGES_DIR is not set, so this run uses a **generated folder** in ${markdownCode(path.relative(process.cwd(), r.path))}: ${fallback.classes} classes of generated signs, plus what a real folder holds (macOS' \`._\` files, a corrupt and a tiny image, a photo with an EXIF rotation, a nested folder, the same picture twice). Set \`IMAGES_DIR\` to a folder of class folders (or a CSV) to train on your own images.`,
    );
  return r;
}

/**
 * A folder of class folders with the mess of a real one, written once (deterministic) under `dir`
 * and reused; returns the folder that holds the class folders. Per class `perClass` generated
 * signs (the last class half as many), plus: AppleDouble `._` files and a `.DS_Store`, a text file,
 * a truncated JPEG, a 6×6 image, a JPEG with an EXIF rotation, a nested sub-folder, one picture
 * copied within its class and one copied into another class.
 */
export async function makeMessyImageFolder(
  dir: string,
  o: GeneratedFolderOptions,
): Promise<string> {
  const root = path.resolve(dir);
  const images = path.join(root, 'images');
  const marker = { kind: 'messy-image-folder', version: 1, ...o };
  if (markerMatches(root, marker)) return images;
  const signs = await makeSyntheticSigns(`${root}.signs`, {
    classes: o.classes,
    trainPerClass: o.perClass,
    validPerClass: 0,
    testPerClass: 0,
    size: o.size,
    seed: o.seed ?? 0,
    layout: 'cars',
    progress: false,
  });
  await buildAtomically(
    root,
    marker,
    async (tmp) => {
      const out = path.join(tmp, 'images');
      const classes = pythonSorted(fs.readdirSync(signs.trainDir));
      const filesOf: string[][] = [];
      classes.forEach((c, k) => {
        fs.mkdirSync(path.join(out, c), { recursive: true });
        let files = pythonSorted(fs.readdirSync(path.join(signs.trainDir, c)));
        if (k === classes.length - 1) files = files.slice(0, Math.ceil(files.length / 2));
        for (const f of files)
          fs.copyFileSync(path.join(signs.trainDir, c, f), path.join(out, c, f));
        filesOf.push(files.map((f) => path.join(out, c, f)));
      });
      const n = classes.length;
      const [c0, c1, c2] = [0, 1, 2].map((k) => path.join(out, classes[k % n]));
      const [f0, f1, f2] = [0, 1, 2].map((k) => filesOf[k % n]);
      // macOS' resource forks beside the images, and its folder settings.
      fs.writeFileSync(path.join(c0, `._${path.basename(f0[0])}`), appleDouble());
      fs.writeFileSync(path.join(c1, '.DS_Store'), Buffer.alloc(64));
      fs.writeFileSync(path.join(c1, 'notes.txt'), 'photos from the trip\n');
      // A download cut short, and a thumbnail someone saved by mistake.
      const jpeg = await sharp(f1[0]).jpeg({ quality: 90 }).toBuffer();
      fs.writeFileSync(path.join(c1, 'IMG_cut_short.jpg'), jpeg.subarray(0, jpeg.length >> 1));
      await sharp(f2[0]).resize(6, 6).png().toFile(path.join(c2, 'thumb.png'));
      // A phone photo: stored sideways with an EXIF tag that says how to turn it.
      await sharp(f2[1])
        .rotate(-90)
        .jpeg({ quality: 92 })
        .withMetadata({ orientation: 6 })
        .toFile(path.join(c2, 'IMG_phone.JPG'));
      // A nested folder inside a class, and the same picture twice (in its class and in another).
      fs.mkdirSync(path.join(c0, 'more'));
      fs.copyFileSync(f0[1], path.join(c0, 'more', 'copy of first.png'));
      fs.copyFileSync(f0[2], path.join(c1, 'wrong class copy.png'));
    },
    true,
  );
  return images;
}

/** An AppleDouble header (what macOS writes as `._name` on non-Mac file systems). */
function appleDouble(): Buffer {
  const b = Buffer.alloc(82);
  b.writeUInt32BE(0x00051607, 0); // magic
  b.writeUInt32BE(0x00020000, 4); // version
  b.write('Mac OS X        ', 8, 'latin1');
  return b;
}

export interface ImageCheckOptions {
  /** An image whose shorter side is below this is "tiny" (default 32 pixels). */
  minSide?: number;
  /** Images read at once (default 8). */
  concurrency?: number;
  /** CSV: column names, as datasetFromCsv (default 'Path' or 'Filename', and 'ClassId'). */
  imageColumn?: string;
  labelColumn?: string;
  show?: boolean;
}

export interface DuplicateGroup {
  /** sha256 of the file's bytes. */
  hash: string;
  files: { file: string; className: string }[];
  /** The copies carry different labels. */
  conflict: boolean;
}

export interface ImageCheck {
  root: string;
  perClass: { className: string; count: number }[];
  total: number;
  /** Largest class / smallest class. */
  imbalance: number;
  corrupt: { file: string; error: string }[];
  tiny: { file: string; width: number; height: number }[];
  /** The image with the fewest pixels. */
  smallest: { file: string; width: number; height: number } | null;
  duplicates: DuplicateGroup[];
  skipped: Partial<ListingSkips>;
  /** Problems in one list, one sentence each, for the text and HTML outputs. */
  findings: string[];
  html: string;
  text: string;
}

interface Entry {
  file: string;
  className: string;
}

function entriesOf(
  source: ImagesSource | string,
  o: ImageCheckOptions,
): { root: string; entries: Entry[]; classNames: string[]; skipped: Partial<ListingSkips> } {
  const src: ImagesSource =
    typeof source === 'string'
      ? {
          kind: source.toLowerCase().endsWith('.csv') ? 'csv' : 'folder',
          path: source,
          label: source,
          source: 'real',
        }
      : source;
  if (src.kind === 'folder') {
    const l = listClassFolders(src.path, null, true, false, 'checkImages');
    return {
      root: path.resolve(src.path),
      classNames: l.classNames,
      entries: l.perClass.flatMap((files, k) =>
        files.map((file) => ({ file, className: l.classNames[k] })),
      ),
      skipped: l.skips,
    };
  }
  const rows = readCsvLines(src.path);
  const cols = rows.length ? Object.keys(rows[0].record) : [];
  const imageColumn = o.imageColumn ?? (cols.includes('Path') ? 'Path' : 'Filename');
  const labelColumn = o.labelColumn ?? 'ClassId';
  const base = path.dirname(path.resolve(src.path));
  const entries = rows.map((r) => ({
    file: path.resolve(base, r.record[imageColumn] ?? ''),
    className: String(r.record[labelColumn] ?? '').trim(),
  }));
  return {
    root: base,
    entries,
    classNames: pythonSorted([...new Set(entries.map((e) => e.className))]),
    skipped: {},
  };
}

const sha256 = (buf: Uint8Array) => createHash('sha256').update(buf).digest('hex');

/**
 * Check a folder of class folders (or a CSV) before training: images per class and imbalance,
 * images that do not decode (with the decoder's reason), tiny images, and the same picture more
 * than once (by the hash of its bytes; a copy in another class is a labelling conflict). Decodes
 * every image once, with the decoder training uses.
 */
export async function checkImages(
  source: ImagesSource | string,
  opts: ImageCheckOptions = {},
): Promise<ImageCheck> {
  const { root, entries, classNames, skipped } = entriesOf(source, opts);
  const minSide = opts.minSide ?? 32;
  const results = await mapConcurrent(entries, opts.concurrency ?? 8, async (e) => {
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(e.file);
    } catch (err) {
      return { e, error: `cannot read: ${(err as Error).message}` };
    }
    const hash = sha256(buf);
    try {
      const img = await decodeImageBuffer(buf, { exifTranspose: false });
      return { e, hash, width: img.width, height: img.height };
    } catch (err) {
      return { e, hash, error: (err as Error).message.split('\n')[0] };
    }
  });
  const counts = new Map(classNames.map((c) => [c, 0]));
  for (const e of entries) counts.set(e.className, (counts.get(e.className) ?? 0) + 1);
  const perClass = classNames.map((className) => ({ className, count: counts.get(className)! }));
  const max = Math.max(...perClass.map((c) => c.count));
  const min = Math.min(...perClass.map((c) => c.count));
  const corrupt: ImageCheck['corrupt'] = [];
  const tiny: ImageCheck['tiny'] = [];
  let smallest: ImageCheck['smallest'] = null;
  const byHash = new Map<string, Entry[]>();
  for (const r of results) {
    if (r.hash) byHash.set(r.hash, [...(byHash.get(r.hash) ?? []), r.e]);
    if ('error' in r && r.error) {
      corrupt.push({ file: r.e.file, error: r.error });
      continue;
    }
    const { width, height } = r as { width: number; height: number };
    if (Math.min(width, height) < minSide) tiny.push({ file: r.e.file, width, height });
    if (!smallest || width * height < smallest.width * smallest.height)
      smallest = { file: r.e.file, width, height };
  }
  const duplicates = [...byHash.entries()]
    .filter(([, list]) => list.length > 1)
    .map(([hash, list]) => ({
      hash,
      files: list,
      conflict: new Set(list.map((f) => f.className)).size > 1,
    }));
  const rel = (f: string) => toPlainText(path.relative(root, f));
  const findings: string[] = [];
  const imbalance = min === 0 ? Infinity : max / min;
  if (imbalance >= IMBALANCE_WARN_RATIO)
    findings.push(
      `Strong class imbalance (${Number.isFinite(imbalance) ? imbalance.toFixed(1) : '∞'}:1): read the per-class report, not only accuracy; add images to the small classes.`,
    );
  for (const c of corrupt)
    findings.push(
      `Corrupt: ${rel(c.file)} (${toPlainText(c.error)}). Replace or delete it, or load with onCorrupt: 'skip'.`,
    );
  for (const t of tiny)
    findings.push(
      `Tiny: ${rel(t.file)} is ${t.width}×${t.height}, below ${minSide} px: upscaled to the model's size it carries little; check it is not a thumbnail.`,
    );
  for (const d of duplicates)
    findings.push(
      `${d.conflict ? 'Same picture in different classes' : 'Same picture twice'}: ${d.files
        .map((f) => rel(f.file))
        .join(', ')}${d.conflict ? ' (one label is wrong)' : ' (it may land in both splits)'}.`,
    );
  for (const l of skipped.danglingLinks ?? []) findings.push(`Dangling link: ${rel(l)}.`);
  const hidden = skipped.hidden?.length ?? 0;
  const total = entries.length;
  const head = `${total} images in ${classNames.length} classes (${min}–${max} per class); ${corrupt.length} corrupt, ${tiny.length} tiny, ${duplicates.length} pictures more than once${hidden ? `; ${hidden} hidden files skipped` : ''}.`;
  const text = [
    head,
    ...perClass.map((c) => `  ${toPlainText(c.className)}: ${c.count}`),
    ...(findings.length
      ? ['Findings:', ...findings.map((f) => `  - ${f}`)]
      : ['No problems found.']),
  ].join('\n');
  const bar = (n: number) =>
    `<div style="background:#1f77b4;height:10px;width:${Math.max(1, Math.round((160 * n) / Math.max(1, max)))}px"></div>`;
  const html =
    `<p><b>${escapeHtml(head)}</b></p>` +
    `<table><thead><tr><th style="text-align:left">class</th><th>images</th><th></th></tr></thead><tbody>` +
    perClass
      .map(
        (c) =>
          `<tr><td style="text-align:left">${escapeHtml(c.className)}</td><td style="text-align:right">${c.count}</td><td>${bar(c.count)}</td></tr>`,
      )
      .join('') +
    `</tbody></table>` +
    (findings.length
      ? `<ul>${findings.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`
      : '<p>No problems found.</p>');
  if (opts.show !== false) showBundle({ 'text/html': html, 'text/plain': text });
  return describeAs(
    {
      root,
      perClass,
      total,
      imbalance,
      corrupt,
      tiny,
      smallest,
      duplicates,
      skipped,
      findings,
      html,
      text,
    },
    (r) =>
      `[image check: ${r.total} images, ${r.corrupt.length} corrupt, ${r.tiny.length} tiny, ${r.duplicates.length} duplicates; .findings, .html, .text]`,
    { shown: opts.show !== false },
  );
}

export interface SplitLeak {
  hash: string;
  /** Each copy: its split and file. */
  copies: { split: string; file: string }[];
}

/**
 * The same picture (by the hash of its bytes) in more than one split: a validation image the
 * model has trained on scores as if it generalised. Pass the datasets (or file lists) by name.
 */
export async function findDuplicates(
  splits: Record<string, ImageDataset | readonly string[]>,
  opts: { show?: boolean; concurrency?: number } = {},
): Promise<{ leaks: SplitLeak[]; text: string; html: string }> {
  const all = Object.entries(splits).flatMap(([split, s]) =>
    (Array.isArray(s) ? (s as readonly string[]) : (s as ImageDataset).files).map((file) => ({
      split,
      file,
    })),
  );
  const hashes = await mapConcurrent(all, opts.concurrency ?? 8, async (x) => {
    try {
      return sha256(await fs.promises.readFile(x.file));
    } catch {
      return null; // unreadable files are the checks' and the loaders' business
    }
  });
  const groups = new Map<string, { split: string; file: string }[]>();
  all.forEach((x, i) => {
    const h = hashes[i];
    if (h) groups.set(h, [...(groups.get(h) ?? []), x]);
  });
  const leaks = [...groups.entries()]
    .filter(([, copies]) => new Set(copies.map((c) => c.split)).size > 1)
    .map(([hash, copies]) => ({ hash, copies }));
  const names = Object.keys(splits).join(' / ');
  const describe = (l: SplitLeak) =>
    l.copies.map((c) => `${c.split}: ${toPlainText(path.basename(c.file))}`).join('  =  ');
  const text = leaks.length
    ? `${leaks.length} picture(s) in more than one split (${names}), a leak: remove the copies so each picture is in one split.\n${leaks.map((l) => `  ${describe(l)}`).join('\n')}`
    : `No picture is in more than one split (${names}; ${all.length} files compared by content).`;
  const html = leaks.length
    ? `<p style="color:#d32f2f"><b>${leaks.length} picture(s) in more than one split (${escapeHtml(names)})</b>: a leak, remove the copies so each picture is in one split.</p><ul>${leaks
        .map((l) => `<li>${escapeHtml(describe(l))}</li>`)
        .join('')}</ul>`
    : `<p>${escapeHtml(text)}</p>`;
  if (opts.show !== false) showBundle({ 'text/html': html, 'text/plain': text });
  return describeAs(
    { leaks, text, html },
    (r) => `[split leaks: ${r.leaks.length}; .leaks, .text, .html]`,
    { shown: opts.show !== false },
  );
}
