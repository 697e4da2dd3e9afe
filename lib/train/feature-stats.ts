// How large the values are that the frozen base hands to the head. An untrained head's loss depends on
// it: before training, a head BatchNormalization still has its initial moving statistics (mean 0,
// variance 1), so at evaluation it passes the features through unchanged, and large features make
// large logits and a confident, mostly wrong softmax (a first loss far above ln(classes)).
import type { FeatureDataset } from './cache';

export interface FeatureStats {
  /** The layer the features come from (the cache's boundary). */
  boundary: string;
  /** Number of images. */
  size: number;
  /** Values per image. */
  valuesPerImage: number;
  mean: number;
  /** Standard deviation over all values of all images. */
  std: number;
  /** Largest absolute value. */
  maxAbs: number;
}

/** Mean, standard deviation and largest absolute value of cached features (first augmentation draw). */
export async function featureStats(features: FeatureDataset): Promise<FeatureStats> {
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let maxAbs = 0;
  let size = 0;
  for await (const b of features.batches({ epoch: 0 })) {
    const values = (await b.xs.data()) as Float32Array;
    b.xs.dispose();
    b.ys?.dispose();
    size += b.labels.length;
    for (const v of values) {
      sum += v;
      sumSq += v * v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    n += values.length;
  }
  if (n === 0)
    throw new Error(
      `featureStats: the feature dataset at "${features.boundary}" is empty; check the dataset's folder.`,
    );
  const mean = sum / n;
  return {
    boundary: features.boundary,
    size,
    valuesPerImage: n / size,
    mean,
    std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    maxAbs,
  };
}
