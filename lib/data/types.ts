// The contract between the data pipeline (lib/data) and its consumers (training, feature cache,
// evaluation, charts). Keep it small: a dataset is a list of files with labels, plus a way to
// turn a slice of them into tensors.
import type * as tf from '@tensorflow/tfjs';

export type LabelMode = 'int' | 'categorical' | null;

/** `[height, width]` of an image in pixels; readonly, so a config's `as const` size passes as it is. */
export type ImageSize = readonly [height: number, width: number];

/** One batch. The consumer owns the tensors and must dispose them. */
export interface Batch {
  /** float32 [batch, height, width, 3], after augmentation, rescale and preprocessing. */
  xs: tf.Tensor4D;
  /** int32 [batch] ('int') or float32 one-hot [batch, classes] ('categorical'); absent for null. */
  ys?: tf.Tensor;
  /** Integer label of each image (always present, for metrics and grids). */
  labels: number[];
  /** Index of each image into `files` (so caches can key on the file). */
  indices: number[];
}

export interface ImageDataset {
  readonly classNames: string[];
  readonly files: string[]; // absolute paths
  readonly labels: number[]; // class index per file, into classNames
  readonly size: number; // number of images
  readonly batchSize: number;
  readonly imageSize: [number, number]; // [height, width]
  readonly labelMode: LabelMode;
  /** Number of batches per epoch (ceil(size / batchSize)). */
  readonly numBatches: number;
  /** True when an augmentation is attached (each epoch draws new transforms). */
  readonly augmented: boolean;
  /**
   * A string that changes whenever anything that changes the pixels changes: image size,
   * interpolation, augmentation parameters and seed, rescale, preprocessing. Feature caches key on it.
   */
  readonly cacheKey: string;
  /**
   * Iterate one epoch. With shuffle on, the order depends on (seed, epoch); augmentation draws
   * depend on (seed, epoch, file index), so a run is reproducible.
   */
  batches(opts?: { epoch?: number }): AsyncIterable<Batch>;
  /** Load given images (by index into files) as one batch, with the augmentation draw of `epoch` (none when omitted). */
  load(indices: number[], opts?: { epoch?: number }): Promise<Batch>;
  /**
   * Whether this dataset applies EXIF orientation tags (false: pixels as stored, as Keras). Displays
   * of its images follow it; absent means the policy in force (lib/data/decode's exifTranspose()).
   */
  readonly exifTranspose?: boolean;
  /** Files that onCorrupt: 'skip' left out so far (absent for datasets that cannot skip). */
  readonly skippedFiles?: string[];
  /** Same files and labels, without augmentation and without shuffling (for evaluation, caching). */
  withoutAugmentation(): ImageDataset;
}
