// Image grids composed with sharp: the data overview (image + class name) and the prediction grid
// of the walkthroughs (title "T: <true> / P: <pred>", green when right, red when wrong). Tiles show
// the ORIGINAL files (dataset.files), not the preprocessed tensors, so colours look right.
import * as fs from 'node:fs';
import sharp, { type OverlayOptions } from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { mulberry32 } from '../rng';
import { describeAs, kb, showBundle } from '../display';
import { argMax } from '../evaluate/metrics';
import { checkModelInput } from '../models/input-shape';
import { escapeHtml } from '../io/html';
import { chunked, runBatches } from '../io/batches';
import { FONT } from './render';
import { sharpOfImageFile } from '../data/decode';

export const RIGHT_COLOUR = '#138a36';
export const WRONG_COLOUR = '#d32f2f';
const TEXT_COLOUR = '#222222';

export interface GridLayoutOptions {
  rows?: number;
  cols?: number;
  /** Which images (indices into dataset.files); default: a seeded random sample of rows × cols. */
  indices?: number[];
  /** Seed of the random sample (default 42, so a notebook shows the same images every run). */
  seed?: number;
  /** Side of each image tile in pixels (images are fitted inside, aspect kept). */
  tileSize?: number;
  /** Title font size in pixels. */
  fontSize?: number;
  /** Lines each title part may wrap to before it is shortened with "…" (default 2: long car names). */
  maxLinesPerPart?: number;
  show?: boolean;
}

export interface GridTile {
  file: string;
  /** Encoded image (PNG/JPEG) drawn instead of reading `file` (e.g. a heatmap overlay). */
  image?: Buffer;
  /** Apply `file`'s EXIF orientation (its dataset's exifTranspose); default: the policy in force. */
  exifTranspose?: boolean;
  /** Title lines drawn above the image; long text is shortened with an ellipsis. */
  title: { text: string; colour: string } | { lines: { text: string; colour: string }[] };
}

/** Approximate advance width of DejaVu Sans Bold text, in em (enough to decide wrapping and truncation). */
export function textWidthEm(s: string): number {
  let w = 0;
  for (const ch of s) {
    if (" .,:;!|'il".includes(ch)) w += 0.36;
    else if ('fjrtI()[]/-'.includes(ch)) w += 0.47;
    else if (/[A-Z]/.test(ch)) w += 0.78;
    else if ('mwMW'.includes(ch)) w += 1.0;
    else w += 0.68; // lower case, digits, symbols
  }
  return w;
}

/** Shorten text with "…" until it fits `maxPx` at `fontSize`. */
export function fitText(s: string, maxPx: number, fontSize: number): string {
  if (textWidthEm(s) * fontSize <= maxPx) return s;
  let t = s;
  while (t.length > 1 && textWidthEm(t + '…') * fontSize > maxPx) t = t.slice(0, -1);
  return t.trimEnd() + '…';
}

/** Greedy word wrap into at most `maxLines` lines; the last line is shortened with "…" if needed. */
export function wrapText(s: string, maxPx: number, fontSize: number, maxLines: number): string[] {
  const fits = (t: string) => textWidthEm(t) * fontSize <= maxPx;
  const words = s.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let i = 0;
  while (i < words.length && lines.length < maxLines - 1) {
    let line = words[i++];
    while (i < words.length && fits(`${line} ${words[i]}`)) line += ` ${words[i++]}`;
    if (!fits(line)) break; // one very long word: let the last line truncate it
    lines.push(line);
  }
  if (i < words.length || lines.length === 0)
    lines.push(fitText(words.slice(i).join(' '), maxPx, fontSize));
  return lines;
}

/**
 * Show a grid as JPEG (quality 90, full-resolution colour so red/green titles stay crisp): an 8×8
 * grid of photos is ~0.4 MB instead of ~2.5 MB as PNG, and notebooks store outputs as base64.
 */
export async function showGrid(png: Buffer, text: string): Promise<void> {
  const jpeg = await sharp(png).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer();
  showBundle({ 'image/jpeg': jpeg, 'text/plain': text });
}

/** Deterministic sample of n distinct indices from 0..size-1 (mulberry32 + partial Fisher-Yates). */
export function sampleIndices(size: number, n: number, seed = 42): number[] {
  const random = mulberry32(seed);
  const idx = Array.from({ length: size }, (_, i) => i);
  const m = Math.min(n, size);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(random() * (size - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, m);
}

/** The tiles' indices for a grid: explicit ones (checked) or a seeded sample. */
function gridIndices(
  fn: string,
  dataset: ImageDataset,
  o: GridLayoutOptions,
  defaultRows: number,
  defaultCols: number,
  pool?: number[],
): number[] {
  const rows = o.rows ?? defaultRows;
  const cols = o.cols ?? defaultCols;
  if (!(rows >= 1 && cols >= 1))
    throw new Error(`${fn}: rows=${rows} and cols=${cols} must both be at least 1.`);
  if (dataset.size === 0) throw new Error(`${fn}: the dataset has no images; check its folder.`);
  const fromPool = (p: number[]) =>
    sampleIndices(p.length, rows * cols, o.seed ?? 42).map((j) => p[j]);
  const indices =
    o.indices ?? (pool ? fromPool(pool) : sampleIndices(dataset.size, rows * cols, o.seed ?? 42));
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= dataset.size)
      throw new Error(
        `${fn}: index ${i} is outside the dataset (0..${dataset.size - 1}); pass indices into dataset.files.`,
      );
  }
  return indices;
}

/** Compose tiles (title lines above each image) into one PNG, `cols` tiles per row. */
export async function composeGrid(
  tiles: GridTile[],
  opts: { cols: number; tileSize?: number; fontSize?: number; maxLinesPerPart?: number },
): Promise<Buffer> {
  const tile = opts.tileSize ?? 128;
  const font = opts.fontSize ?? 11;
  const pad = 8;
  const cols = Math.max(1, Math.min(opts.cols, tiles.length));
  const rows = Math.ceil(tiles.length / cols);
  const cellW = tile + pad;
  const lineH = Math.round(font * 1.3);
  const maxText = cellW - 4;
  // Titles: "T: … / P: …" on one line when that fits for EVERY tile (a consistent look), else each
  // part on its own line(s), wrapped and shortened with "…".
  const partsOf = (t: GridTile) => ('lines' in t.title ? t.title.lines : [t.title]);
  const joinedOf = (t: GridTile) =>
    partsOf(t)
      .map((p) => p.text)
      .join(' / ');
  const join = tiles.every((t) => textWidthEm(joinedOf(t)) * font <= maxText);
  const titled = tiles.map((t) => {
    const parts = partsOf(t);
    if (join)
      return {
        file: t.file,
        image: t.image,
        exifTranspose: t.exifTranspose,
        lines: [{ text: joinedOf(t), colour: parts[0].colour }],
      };
    const lines = parts.flatMap((p) =>
      wrapText(p.text, maxText, font, opts.maxLinesPerPart ?? 2).map((text) => ({
        text,
        colour: p.colour,
      })),
    );
    return { file: t.file, image: t.image, exifTranspose: t.exifTranspose, lines };
  });
  const titleH = Math.max(...titled.map((t) => t.lines.length)) * lineH + 4;
  const cellH = titleH + tile + pad;
  const width = cols * cellW + pad;
  const height = rows * cellH + pad;
  const composites: OverlayOptions[] = [];
  const texts: string[] = [];
  for (const [i, t] of titled.entries()) {
    const x = pad + (i % cols) * cellW;
    const y = pad + Math.floor(i / cols) * cellH;
    if (!t.image && !fs.existsSync(t.file))
      throw new Error(
        `image grid: ${t.file} does not exist; was the dataset folder moved? Re-create the dataset from its folder.`,
      );
    // The pixels the model is given (lib/data/decode's EXIF policy), not the photo turned upright.
    const source = t.image
      ? sharp(t.image)
      : await sharpOfImageFile(t.file, { exifTranspose: t.exifTranspose });
    const img = await source
      .resize(tile, tile, { fit: 'contain', background: { r: 255, g: 255, b: 255, alpha: 1 } })
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer();
    composites.push({
      input: img,
      left: x + Math.floor((cellW - pad - tile) / 2),
      top: y + titleH,
    });
    t.lines.forEach((l, j) => {
      texts.push(
        `<text x="${x + tile / 2}" y="${y + (j + 1) * lineH - 3}" text-anchor="middle" fill="${l.colour}">${escapeHtml(l.text)}</text>`,
      );
    });
  }
  const overlay =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="${FONT}" font-size="${font}" font-weight="bold">${texts.join('')}</g></svg>`;
  composites.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toBuffer();
}

export interface ShowBatchOptions extends GridLayoutOptions {
  /** Names to title the tiles with (default dataset.classNames). */
  classNames?: string[];
}

/** Data overview: a grid of images titled with their class name (the walkthroughs' first look at the data). */
export async function showBatch(
  dataset: ImageDataset,
  opts: ShowBatchOptions = {},
): Promise<{ png: Buffer; indices: number[] }> {
  const indices = gridIndices('showBatch', dataset, opts, 4, 8);
  const names = opts.classNames ?? dataset.classNames;
  const tiles = indices.map((i) => ({
    file: dataset.files[i],
    exifTranspose: dataset.exifTranspose,
    title: { text: names[dataset.labels[i]] ?? String(dataset.labels[i]), colour: TEXT_COLOUR },
  }));
  const png = await composeGrid(tiles, {
    cols: opts.cols ?? 8,
    tileSize: opts.tileSize ?? 96,
    fontSize: opts.fontSize,
    maxLinesPerPart: opts.maxLinesPerPart,
  });
  if (opts.show !== false)
    await showGrid(
      png,
      `${indices.length} images from ${dataset.size} (${dataset.classNames.length} classes)`,
    );
  return describeAs(
    { png, indices },
    (r) => `[grid: .png (${kb(r.png)}), .indices (${r.indices.length})]`,
    { shown: opts.show !== false },
  );
}

export interface PredictGridOptions extends GridLayoutOptions {
  classNames?: string[];
  /** Predicted class per dataset image (e.g. evaluateWithPredictions(...).predicted): skips running the model again. */
  predicted?: number[];
  /** Which images to sample: any (default), only misclassified ('wrong') or only correct ('right'); needs `predicted`. */
  select?: 'any' | 'wrong' | 'right';
}

export interface PredictGridResult {
  png: Buffer;
  correct: number;
  total: number;
  indices: number[];
  /** Predicted class of each tile. */
  predicted: number[];
}

/** Run the model on the chosen images, in chunks of the dataset's batch size, and take the argmax. */
async function predictIndices(
  model: tf.LayersModel,
  dataset: ImageDataset,
  indices: number[],
): Promise<number[]> {
  const ds = dataset.withoutAugmentation();
  const out: number[] = [];
  const load = (chunk: number[]) => ds.load(chunk);
  await runBatches('predictGrid', chunked(indices, Math.max(1, ds.batchSize), load), async (b) => {
    checkModelInput(model, b.xs, 'predictGrid');
    const y = model.predict(b.xs) as tf.Tensor;
    const data = await y.data();
    const k = y.shape[y.shape.length - 1] ?? 1;
    y.dispose();
    for (let r = 0; r < b.indices.length; r++) out.push(argMax(data.subarray(r * k, (r + 1) * k)));
  });
  return out;
}

/**
 * A grid of images titled "T: <true> / P: <predicted>", green when right and red when wrong, as in
 * the walkthroughs. Pass `predicted` (from evaluateWithPredictions) to reuse predictions; otherwise the model runs
 * on the chosen images only.
 */
export async function predictGrid(
  model: tf.LayersModel | null,
  dataset: ImageDataset,
  opts: PredictGridOptions = {},
): Promise<PredictGridResult> {
  if (opts.predicted && opts.predicted.length !== dataset.size) {
    throw new Error(
      `predictGrid: predicted has ${opts.predicted.length} entries but the dataset has ${dataset.size} images; pass evaluateWithPredictions(model, sameDataset).predicted.`,
    );
  }
  let pool: number[] | undefined;
  if (opts.select && opts.select !== 'any') {
    if (!opts.predicted)
      throw new Error(
        `predictGrid: select: '${opts.select}' needs the predictions of the whole dataset; pass predicted: evaluateWithPredictions(model, dataset).predicted.`,
      );
    const wantWrong = opts.select === 'wrong';
    pool = dataset.labels
      .map((_, i) => i)
      .filter((i) => (opts.predicted![i] !== dataset.labels[i]) === wantWrong);
    if (!pool.length)
      throw new Error(
        `predictGrid: no ${wantWrong ? 'misclassified' : 'correctly classified'} images to show.`,
      );
  }
  const indices = gridIndices('predictGrid', dataset, opts, 4, 4, pool);
  const names = opts.classNames ?? dataset.classNames;
  let predicted: number[];
  if (opts.predicted) {
    predicted = indices.map((i) => opts.predicted![i]);
  } else {
    if (!model)
      throw new Error(
        'predictGrid: pass a model, or opts.predicted from evaluateWithPredictions().',
      );
    predicted = await predictIndices(model, dataset, indices);
  }
  const name = (c: number) => names[c] ?? String(c);
  let correct = 0;
  const tiles = indices.map((i, j) => {
    const ok = predicted[j] === dataset.labels[i];
    if (ok) correct++;
    const colour = ok ? RIGHT_COLOUR : WRONG_COLOUR;
    return {
      file: dataset.files[i],
      exifTranspose: dataset.exifTranspose,
      title: {
        lines: [
          { text: `T: ${name(dataset.labels[i])}`, colour },
          { text: `P: ${name(predicted[j])}`, colour },
        ],
      },
    };
  });
  const png = await composeGrid(tiles, {
    cols: opts.cols ?? 4,
    tileSize: opts.tileSize ?? 128,
    fontSize: opts.fontSize,
    maxLinesPerPart: opts.maxLinesPerPart,
  });
  const total = indices.length;
  if (opts.show !== false)
    await showGrid(
      png,
      `Predictions: ${correct}/${total} correct (T: true class / P: predicted; red = wrong)`,
    );
  return describeAs(
    { png, correct, total, indices, predicted },
    (r) =>
      `[prediction grid: ${r.correct}/${r.total} correct; .png (${kb(r.png)}), .correct, .total, .indices, .predicted]`,
    { shown: opts.show !== false },
  );
}
