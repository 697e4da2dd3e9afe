// A preview cell: one image and a grid of its augmented variants, as a PNG (and the raw images).
import sharp from 'sharp';
import { showMarkdown, showPng } from '../display';
import { loadImageFile, type Interpolation, type RawImage } from './decode';
import type { ImageDataGenerator } from './augment';
import type { ImageSize } from './types';
import { rngFor } from '../rng';
import { describeAs } from '../display';

export interface PreviewOptions {
  /** Number of augmented variants (default 8). */
  n?: number;
  /** Resize the image first ([height, width]); default: keep its size. */
  imageSize?: ImageSize | null;
  interpolation?: Interpolation;
  /** Put the unaugmented image first (default true). */
  includeOriginal?: boolean;
  /** Tiles per row (default: all in one row up to 4 tiles, else two rows). */
  columns?: number;
  /**
   * Smallest side of a tile on screen, in px (default 128): small images are enlarged by a whole
   * factor, each pixel a square block, so what the model sees stays visible (64 px images: ×2).
   */
  tileSize?: number;
  /** A sentence shown under the grid, e.g. labelSafeAugmentation(...).note (which flips are off). */
  note?: string;
  /** Seed of the draws; variant i uses the draw of (seed, epoch i, file index 0). */
  seed?: number;
  /** Pixels between tiles. */
  gap?: number;
  /** Display the grid in a notebook (default true). */
  show?: boolean;
}

export interface PreviewResult {
  /** The tiles, float32 RGB in 0..255 before rescale/preprocessing. */
  images: RawImage[];
  /** The grid as PNG bytes. */
  png: Buffer;
  /** The sentence shown under the grid, when one was given. */
  note?: string;
}

/** Augment one image `n` times with `generator` and compose a grid. */
export async function previewAugmentation(
  imagePath: string,
  generator: ImageDataGenerator,
  opts: PreviewOptions = {},
): Promise<PreviewResult> {
  const n = opts.n ?? 8,
    seed = opts.seed ?? 0,
    gap = opts.gap ?? 4;
  const base = await loadImageFile(imagePath, {
    imageSize: opts.imageSize ?? null,
    interpolation: opts.interpolation,
  });
  const images: RawImage[] = (opts.includeOriginal ?? true) ? [base] : [];
  for (let i = 0; i < n; i++) {
    images.push(
      generator.applyTransform(
        base,
        generator.getRandomTransform(base.height, base.width, rngFor(seed, i, 0)),
      ),
    );
  }
  const count = images.length;
  const cols = Math.max(
    1,
    Math.min(opts.columns ?? (count <= 4 ? count : Math.ceil(count / 2)), count),
  );
  const rows = Math.ceil(count / cols);
  // A whole enlargement factor (nearest neighbour): 64 px tiles of 404×132 px grids were too small
  // to see what a transform did; blocks of pixels show it without inventing detail.
  const scale = Math.max(1, Math.ceil((opts.tileSize ?? 128) / Math.max(base.height, base.width)));
  const th = base.height * scale,
    tw = base.width * scale;
  const W = cols * tw + (cols - 1) * gap,
    H = rows * th + (rows - 1) * gap;
  const grid = new Uint8Array(W * H * 3).fill(255);
  images.forEach((img, t) => {
    const ox = (t % cols) * (tw + gap),
      oy = Math.floor(t / cols) * (th + gap);
    for (let y = 0; y < img.height * scale; y++) {
      for (let x = 0; x < img.width * scale; x++) {
        const src = (Math.floor(y / scale) * img.width + Math.floor(x / scale)) * 3;
        for (let c = 0; c < 3; c++)
          grid[((oy + y) * W + ox + x) * 3 + c] = Math.max(
            0,
            Math.min(255, Math.round(img.data[src + c])),
          );
      }
    }
  });
  const png = await sharp(grid, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
  if (opts.show ?? true) {
    showPng(
      png,
      `${images.length} images (${(opts.includeOriginal ?? true) ? 'original + ' : ''}${n} augmented)`,
    );
    if (opts.note) showMarkdown(opts.note);
  }
  return describeAs(
    { images, png, ...(opts.note ? { note: opts.note } : {}) },
    (r) => `[augmentation preview: ${r.images.length} images; .images, .png]`,
    { shown: opts.show ?? true },
  );
}
