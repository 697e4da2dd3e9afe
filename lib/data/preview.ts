// A preview cell: one image and a grid of its augmented variants, as a PNG (and the raw images).
import sharp from 'sharp';
import { showPng } from '../display';
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
  columns?: number;
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
  const cols = Math.max(1, Math.min(opts.columns ?? Math.min(images.length, 6), images.length));
  const rows = Math.ceil(images.length / cols);
  const W = cols * base.width + (cols - 1) * gap,
    H = rows * base.height + (rows - 1) * gap;
  const grid = new Uint8Array(W * H * 3).fill(255);
  images.forEach((img, t) => {
    const ox = (t % cols) * (base.width + gap),
      oy = Math.floor(t / cols) * (base.height + gap);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        for (let c = 0; c < 3; c++)
          grid[((oy + y) * W + ox + x) * 3 + c] = Math.max(
            0,
            Math.min(255, Math.round(img.data[(y * img.width + x) * 3 + c])),
          );
      }
    }
  });
  const png = await sharp(grid, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
  if (opts.show ?? true)
    showPng(
      png,
      `${images.length} images (${(opts.includeOriginal ?? true) ? 'original + ' : ''}${n} augmented)`,
    );
  return describeAs(
    { images, png },
    (r) => `[augmentation preview: ${r.images.length} images; .images, .png]`,
    { shown: opts.show ?? true },
  );
}
