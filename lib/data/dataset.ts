// The one dataset implementation behind every loader (folders, CSV): a list of files with labels,
// decoded a batch at a time with several images in flight, the next batch prefetched while the
// current one is consumed. Tensors are only made when a batch is handed out; the consumer owns them.
import * as tf from '@tensorflow/tfjs';
import type { Batch, ImageDataset, ImageSize, LabelMode } from './types';
import {
  decodeImageFile,
  exifTranspose,
  mapConcurrent,
  resizeDecoded,
  type DecodedRgb,
  type Interpolation,
  type RawImage,
} from './decode';
import { preprocessPixels, type PreprocessMode } from './preprocess';
import { hashString, randomSeed, rngFor, shuffled, type Rng } from '../rng';
import { checkInterrupt } from '../io/interrupt';

/**
 * What a dataset needs from an augmentation (ImageDataGenerator implements it). Declared here, where
 * it is used, so that the generator (which builds datasets) and the dataset do not import each other.
 */
export interface DatasetAugmentation {
  /** True when some parameter draws random transforms (not just rescale/preprocessing). */
  readonly isRandom: boolean;
  /** Draw, apply and standardize: one augmented image. */
  randomTransform(img: RawImage, rng: Rng): RawImage;
  /** The per-image parts without a random draw (preprocessingFunction, rescale). */
  standardize(img: RawImage): RawImage;
  /** The same without random transforms (validation, evaluation). */
  standardizeOnly(): DatasetAugmentation;
  /** A stable description of every parameter (for dataset cache keys). */
  describe(): string;
}

/** Options shared by every dataset constructor (Keras names where Keras has one). */
export interface ImageLoadOptions {
  /** [height, width] every image is resized to. */
  imageSize?: ImageSize;
  batchSize?: number;
  /** Shuffle the order every epoch (order depends on seed and epoch). */
  shuffle?: boolean;
  seed?: number;
  interpolation?: Interpolation;
  /** Centre-crop to the target aspect ratio instead of stretching. */
  cropToAspectRatio?: boolean;
  /** Random augmentation (plus its rescale / preprocessingFunction). */
  augment?: DatasetAugmentation | null;
  /** Multiply pixels by this after augmentation (e.g. 1/255). */
  rescale?: number | null;
  /** A Keras preprocess_input mode or base name ('resnet50'), or a function on the batch tensor (runs inside tf.tidy). */
  preprocessing?: PreprocessMode | 'none' | ((x: tf.Tensor4D) => tf.Tensor4D) | null;
  /** 'error' (default): a corrupt image throws, naming the file; 'skip': warn once and leave it out. */
  onCorrupt?: 'error' | 'skip';
  /** Images decoded at once (sharp decodes on libuv's thread pool). Default 8. */
  concurrency?: number;
  /** Decode the next batch while the current one is in use. Default true. */
  prefetch?: boolean;
  /** Keep decoded (not yet resized) images in memory: worth it for small datasets like GTSRB-40. */
  cacheDecoded?: boolean;
  /** Print "Found N files belonging to C classes." like Keras, and the dataset's summary line. Default true. */
  verbose?: boolean;
  /**
   * Apply each photo's EXIF orientation tag. Default: the policy in force (`setExifTranspose`,
   * NB_EXIF_TRANSPOSE), which is false: pixels as stored, as Keras. Grids and Grad-CAM of this
   * dataset follow the dataset's value.
   */
  exifTranspose?: boolean;
}

export interface DatasetSource {
  files: string[];
  labels: number[];
  classNames: string[];
  labelMode: LabelMode;
  /** Optional source crop per file [x1, y1, x2, y2] (inclusive pixel coordinates), e.g. a GTSRB ROI. */
  crops?: (readonly [number, number, number, number] | null)[];
  /** flowFromDirectory's classMode 'input': the target is a copy of the image. */
  targetIsInput?: boolean;
  /** Default image size when the options give none. */
  defaultImageSize: ImageSize;
  defaultInterpolation: Interpolation;
}

const SHUFFLE_STREAM = 0x5eed;

class FileImageDataset implements ImageDataset {
  readonly classNames: string[];
  readonly files: string[];
  readonly labels: number[];
  readonly size: number;
  readonly batchSize: number;
  readonly imageSize: [number, number];
  readonly labelMode: LabelMode;
  readonly numBatches: number;
  readonly augmented: boolean;
  readonly cacheKey: string;
  readonly seed: number;
  readonly exifTranspose: boolean;
  private readonly skipped = new Set<number>();
  private readonly decodedCache = new Map<number, DecodedRgb>();

  constructor(
    private readonly src: DatasetSource,
    private readonly opts: ImageLoadOptions,
  ) {
    this.classNames = src.classNames.slice();
    this.files = src.files.slice();
    this.labels = src.labels.slice();
    this.size = this.files.length;
    this.batchSize = opts.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}.`);
    this.imageSize = [...(opts.imageSize ?? src.defaultImageSize)] as [number, number]; // a copy the caller cannot change
    if (this.imageSize.length !== 2 || !this.imageSize.every((v) => Number.isInteger(v) && v > 0)) {
      throw new Error(
        `imageSize must be [height, width] of positive integers, got ${JSON.stringify(opts.imageSize)}.`,
      );
    }
    this.labelMode = src.labelMode;
    this.numBatches = Math.ceil(this.size / this.batchSize);
    this.augmented = !!opts.augment?.isRandom;
    this.seed = opts.seed ?? randomSeed();
    // Fixed when the dataset is made: a later setExifTranspose does not change its pixels midway.
    this.exifTranspose = opts.exifTranspose ?? exifTranspose();
    const pre = opts.preprocessing;
    this.cacheKey = hashString(
      JSON.stringify({
        imageSize: this.imageSize,
        interpolation: opts.interpolation ?? src.defaultInterpolation,
        crop: opts.cropToAspectRatio ?? false,
        crops: src.crops ? hashString(JSON.stringify(src.crops)) : null,
        augment: opts.augment ? opts.augment.describe() : null,
        seed: this.augmented ? this.seed : null,
        rescale: opts.rescale ?? null,
        preprocessing: typeof pre === 'function' ? hashString(pre.toString()) : (pre ?? null),
        // Only when on, so caches made before the policy existed stay valid.
        ...(this.exifTranspose ? { exifTranspose: true } : {}),
      }),
    );
  }

  async *batches(o: { epoch?: number } = {}): AsyncIterable<Batch> {
    const epoch = o.epoch ?? 0;
    const all = Array.from({ length: this.size }, (_, i) => i);
    const order =
      (this.opts.shuffle ?? true) ? shuffled(all, rngFor(this.seed, epoch, SHUFFLE_STREAM)) : all;
    const chunks: number[][] = [];
    for (let i = 0; i < order.length; i += this.batchSize)
      chunks.push(order.slice(i, i + this.batchSize));
    const prefetch = this.opts.prefetch ?? true;
    const skippedBefore = this.skipped.size;
    let pending: Promise<LoadedImages> | null = chunks.length
      ? this.loadPixels(chunks[0], epoch)
      : null;
    try {
      for (let b = 0; b < chunks.length; b++) {
        const current = await (pending ?? this.loadPixels(chunks[b], epoch));
        // Start decoding the next batch before handing this one out.
        pending = prefetch && b + 1 < chunks.length ? this.loadPixels(chunks[b + 1], epoch) : null;
        if (current.indices.length) yield this.toBatch(current);
      }
      if (this.skipped.size > skippedBefore) console.warn(this.skippedReport());
    } finally {
      // The consumer stopped early: let a prefetch finish quietly (it holds no tensors).
      pending?.catch(() => undefined);
    }
  }

  async load(indices: number[], o: { epoch?: number } = {}): Promise<Batch> {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.size)
        throw new Error(`load: index ${i} is outside 0..${this.size - 1}.`);
    }
    return this.toBatch(await this.loadPixels(indices, o.epoch));
  }

  /** The files onCorrupt: 'skip' has left out so far (each is tried once, then never again). */
  get skippedFiles(): string[] {
    return [...this.skipped].sort((a, b) => a - b).map((i) => this.files[i]);
  }

  /** One line: how many files were skipped, which, and what to do about them. */
  private skippedReport(): string {
    const files = this.skippedFiles;
    const shown = files.slice(0, 5).join(', ');
    return (
      `onCorrupt 'skip': ${files.length} of ${this.size} files could not be decoded and are left out ` +
      `(${shown}${files.length > 5 ? `, +${files.length - 5} more` : ''}; the list is dataset.skippedFiles). ` +
      `Replace or delete them to train on every image.`
    );
  }

  withoutAugmentation(): ImageDataset {
    return new FileImageDataset(this.src, {
      ...this.opts,
      augment: this.opts.augment ? this.opts.augment.standardizeOnly() : null,
      shuffle: false,
      seed: this.seed,
      verbose: false,
      exifTranspose: this.exifTranspose,
    });
  }

  /** Decode, resize, augment and preprocess images; pixels only, no tensors. */
  private async loadPixels(indices: number[], epoch: number | undefined): Promise<LoadedImages> {
    const [h, w] = this.imageSize;
    const per = h * w * 3;
    const gen = this.opts.augment ?? null;
    const images = await mapConcurrent(indices, this.opts.concurrency ?? 8, async (i) => {
      // A batch of full-size photos takes seconds to decode: Jupyter's Interrupt stops it per image.
      checkInterrupt();
      if (this.skipped.has(i)) return null;
      let decoded = this.decodedCache.get(i);
      if (!decoded) {
        try {
          decoded = await decodeImageFile(this.files[i], { exifTranspose: this.exifTranspose });
        } catch (e) {
          if ((this.opts.onCorrupt ?? 'error') === 'skip') {
            this.skipped.add(i);
            const why = (e as { reason?: string }).reason ?? (e as Error).message;
            console.warn(`onCorrupt 'skip': leaving out ${this.files[i]} (${why}).`);
            return null;
          }
          throw e;
        }
        if (this.opts.cacheDecoded) this.decodedCache.set(i, decoded);
      }
      let img: RawImage = await resizeDecoded(cropTo(decoded, this.src.crops?.[i] ?? null), {
        imageSize: this.imageSize,
        interpolation: this.opts.interpolation ?? this.src.defaultInterpolation,
        cropToAspectRatio: this.opts.cropToAspectRatio,
      });
      if (gen) {
        // Draws depend on (seed, epoch, file index) only; without an epoch there is no random draw.
        // img is h x w here, so randomTransform draws for the target size.
        img =
          gen.isRandom && epoch !== undefined
            ? gen.randomTransform(img, rngFor(this.seed, epoch, i))
            : gen.standardize(img);
      }
      return img;
    });
    const kept = indices.filter((_, k) => images[k] !== null);
    const data = new Float32Array(kept.length * per);
    let k = 0;
    for (const img of images) if (img) data.set(img.data, per * k++);
    if (this.opts.rescale != null && this.opts.rescale !== 1) {
      const r = this.opts.rescale;
      for (let j = 0; j < data.length; j++) data[j] *= r;
    }
    const mode = this.opts.preprocessing;
    if (typeof mode === 'string' && mode !== 'none') preprocessPixels(data, mode);
    return { data, indices: kept };
  }

  private toBatch(loaded: LoadedImages): Batch {
    const [h, w] = this.imageSize;
    const n = loaded.indices.length;
    const labels = loaded.indices.map((i) => this.labels[i]);
    let xs = tf.tensor4d(loaded.data, [n, h, w, 3], 'float32');
    const fn = this.opts.preprocessing;
    if (typeof fn === 'function') {
      const raw = xs;
      xs = tf.tidy(() => fn(raw));
      if (xs !== raw) raw.dispose();
    }
    let ys: tf.Tensor | undefined;
    if (this.src.targetIsInput) ys = xs.clone();
    else if (this.labelMode === 'int') ys = tf.tensor1d(labels, 'int32');
    else if (this.labelMode === 'categorical') {
      ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), this.classNames.length).toFloat());
    }
    return { xs, ys, labels, indices: loaded.indices.slice() };
  }
}

interface LoadedImages {
  data: Float32Array;
  indices: number[];
}

/** Crop decoded bytes to an inclusive [x1, y1, x2, y2] box (clamped to the image). */
function cropTo(
  img: DecodedRgb,
  box: readonly [number, number, number, number] | null,
): DecodedRgb {
  if (!box) return img;
  const x1 = Math.max(0, Math.min(img.width - 1, Math.round(box[0])));
  const y1 = Math.max(0, Math.min(img.height - 1, Math.round(box[1])));
  const x2 = Math.max(x1, Math.min(img.width - 1, Math.round(box[2])));
  const y2 = Math.max(y1, Math.min(img.height - 1, Math.round(box[3])));
  const w = x2 - x1 + 1,
    h = y2 - y1 + 1;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    data.set(
      img.data.subarray(((y1 + y) * img.width + x1) * 3, ((y1 + y) * img.width + x2 + 1) * 3),
      y * w * 3,
    );
  return { data, width: w, height: h };
}

/** Build a dataset from files and labels (what the folder and CSV loaders return). */
export function createImageDataset(src: DatasetSource, opts: ImageLoadOptions = {}): ImageDataset {
  if (src.files.length !== src.labels.length)
    throw new Error(
      `createImageDataset: ${src.files.length} files but ${src.labels.length} labels.`,
    );
  for (let i = 0; i < src.labels.length; i++) {
    const l = src.labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= src.classNames.length) {
      throw new Error(
        `createImageDataset: label ${l} of ${src.files[i]} is not an index into the ${src.classNames.length} classNames.`,
      );
    }
  }
  return new FileImageDataset(src, opts);
}
