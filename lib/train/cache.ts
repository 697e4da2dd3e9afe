// Cached features: run the frozen part of a model once per image (and once per augmentation draw,
// for K cached draws), then train what comes after on the stored outputs.
//
// On a CPU a frozen VGG16/ResNet50/InceptionV3 forward pass costs ~1 s per image; re-running it every
// epoch is what makes "tweak the head, re-run the cell" take hours. Here the first epoch (or the
// first K epochs, with augmentation) computes and stores the features; later epochs, later phases
// and re-runs of the cell read them back from memory or disk in milliseconds.
//
// A cache entry is keyed by: the weights and configs of every layer up to the boundary (so fine-
// tuning them, or loading other weights, invalidates it), the dataset's cacheKey (image size,
// preprocessing, augmentation parameters and seed), the image file (path, size, mtime) and the
// augmentation draw. Entries live in memory (an LRU with a byte budget) and on disk (one file each,
// written atomically), under <dir>/<weights>/<dataset>/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { CACHE_DIR } from '../config';
import { rngFor, shuffled } from '../data/rng';
import { removeLeftoversIn, writeFileAtomic } from '../io/atomic';
import { fileKey, layersFingerprint, shortHash } from './fingerprint';
import { planGraph, planLayers, runPlan, type GraphPlan } from './graph';
import { headBoundary } from './heads';

/** One batch of cached features. The consumer owns the tensors. */
export interface FeatureBatch {
  /** The boundary layer's output for these images, [batch, ...featureShape]. */
  xs: tf.Tensor;
  ys?: tf.Tensor;
  labels: number[];
  indices: number[];
}

export interface FeatureCacheStats {
  computed: number;
  fromMemory: number;
  fromDisk: number;
}

/** A dataset of features cached at `boundary`: what trainPhase / evaluateLoss accept instead of images. */
export interface FeatureDataset {
  readonly kind: 'features';
  /** The layer whose output is cached; training runs the layers after it. */
  readonly boundary: string;
  readonly featureShape: number[];
  readonly dataset: ImageDataset;
  readonly classNames: string[];
  readonly labels: number[];
  readonly size: number;
  readonly batchSize: number;
  readonly numBatches: number;
  /** Distinct augmentation draws kept per image (epoch e uses draw e mod K); 1 without augmentation. */
  readonly drawsPerImage: number;
  /** Fingerprint of the weights up to the boundary. */
  readonly weightsKey: string;
  /** Disk folder of this cache (null: memory only). */
  readonly dir: string | null;
  readonly stats: FeatureCacheStats;
  batches(opts?: { epoch?: number }): AsyncIterable<FeatureBatch>;
  /** Compute every missing entry now (all draws) instead of during the first epochs. */
  precompute(opts?: { verbose?: boolean }): Promise<void>;
  /** Throws when `model`'s layers up to the boundary no longer match the cached weights. */
  assertMatches(model: tf.LayersModel): void;
}

export function isFeatureDataset(x: unknown): x is FeatureDataset {
  return typeof x === 'object' && x !== null && (x as FeatureDataset).kind === 'features';
}

export interface CachedFeaturesOptions {
  /** Cache the output of this layer. Default: where buildHead attached the head, else the model's output layer (a base). */
  layer?: string;
  /** K: augmentation draws kept per image when the dataset is augmented (default 1). Ignored without augmentation. */
  drawsPerImage?: number;
  /** Disk folder; null keeps the cache in memory only. Default: <project>/.cache/features (NB_CACHE_DIR). */
  dir?: string | null;
  /** Shuffle the order each epoch (seeded by seed and epoch). Default true. */
  shuffle?: boolean;
  seed?: number;
  /** Default: the dataset's batch size. */
  batchSize?: number;
}

// ---------------------------------------------------------------------------------------------
// The in-memory store, shared by every cache (re-running a cell finds its features here).

const memory = new Map<string, Float32Array>();
let memoryBytes = 0;
function memoryBudget(): number {
  const mb = Number(process.env.NB_FEATURE_CACHE_MB ?? 2048);
  return (Number.isFinite(mb) && mb >= 0 ? mb : 2048) * 1024 * 1024;
}
function memGet(key: string): Float32Array | undefined {
  const v = memory.get(key);
  if (v) {
    memory.delete(key); // move to the back: least recently used first out
    memory.set(key, v);
  }
  return v;
}
function memPut(key: string, v: Float32Array): void {
  const budget = memoryBudget();
  if (v.byteLength > budget) return;
  if (memory.has(key)) memoryBytes -= memory.get(key)!.byteLength;
  memory.set(key, v);
  memoryBytes += v.byteLength;
  for (const [k, old] of memory) {
    if (memoryBytes <= budget) break;
    memory.delete(k);
    memoryBytes -= old.byteLength;
  }
}

/** Drop every cached feature held in memory (disk files stay). */
export function clearFeatureMemory(): void {
  memory.clear();
  memoryBytes = 0;
}

/** Bytes of features held in memory now. */
export function featureMemoryBytes(): number {
  return memoryBytes;
}

// ---------------------------------------------------------------------------------------------

/** The order of one epoch: shuffled by (seed, epoch) with lib/data's PRNG, or as listed. */
function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return shuffle ? shuffled(order, rngFor(seed, epoch, 0xcafe)) : order;
}

/** The model (or its bottom part) features are computed with, and the boundary layer's name. */
function bottomPlanOf(model: tf.LayersModel, layer: string | undefined): { plan: GraphPlan; boundary: string } {
  const boundary = layer ?? headBoundary(model) ?? model.outputs[0].sourceLayer.name;
  return { plan: planGraph(model, { to: boundary }), boundary };
}

/**
 * Features of `dataset` at a layer of `model`, cached in memory and on disk, ready for trainPhase /
 * evaluateLoss in place of the images.
 *
 *   cachedFeatures(base, train)                          // the base's output (head training)
 *   cachedFeatures(model, train)                         // where buildHead attached the head
 *   cachedFeatures(model, train, { layer: 'mixed8' })    // a block boundary (fine-tune mixed9-10)
 *
 * Features are computed lazily (during the first epoch that needs them) in inference mode, which is
 * exactly what a frozen part computes during training in Keras (a frozen BatchNormalization uses its
 * moving statistics). With an augmented dataset, draw k of image i is the augmentation the dataset
 * gives at epoch k; epoch e trains on draw e mod K.
 */
export async function cachedFeatures(model: tf.LayersModel, dataset: ImageDataset, opts: CachedFeaturesOptions = {}): Promise<FeatureDataset> {
  if (!dataset || typeof dataset.load !== 'function') {
    throw new Error('cachedFeatures: the second argument must be an ImageDataset from lib/data (imageDatasetFromDirectory, flowFromDirectory, ...).');
  }
  const { plan, boundary } = bottomPlanOf(model, opts.layer);
  const augmented = dataset.augmented;
  const draws = augmented ? opts.drawsPerImage ?? 1 : 1;
  if (!(Number.isInteger(draws) && draws >= 1)) throw new Error(`cachedFeatures: drawsPerImage must be a whole number >= 1 (got ${opts.drawsPerImage}).`);
  if (augmented && opts.drawsPerImage === undefined) {
    console.log(`cachedFeatures: the dataset is augmented and drawsPerImage is 1, so every epoch trains on the same augmented copy of each image. Pass drawsPerImage: K to cycle through K draws (the first K epochs compute them).`);
  }
  const batchSize = opts.batchSize ?? dataset.batchSize;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`cachedFeatures: batchSize must be a whole number >= 1 (got ${batchSize}).`);
  const shuffle = opts.shuffle ?? true;
  const seed = opts.seed ?? 42;
  const inputShape = plan.feeds[0].shape.slice(1);
  const featureShape = plan.fetches[0].shape.slice(1).map((d) => {
    if (d === null) throw new Error(`cachedFeatures: layer "${boundary}" has an unknown output size; build the base with a fixed inputShape.`);
    return d;
  });
  const featureSize = featureShape.reduce((a, b) => a * b, 1);
  const weightsKey = layersFingerprint(planLayers(plan), JSON.stringify(inputShape));
  const dataKey = shortHash(`${dataset.cacheKey}|${dataset.imageSize}`);
  const root = opts.dir === null ? null : path.resolve(opts.dir ?? path.join(CACHE_DIR, 'features'));
  const dir = root ? path.join(root, `${boundary.replace(/[^\w.-]/g, '_')}-${weightsKey.slice(0, 16)}`, dataKey) : null;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    removeLeftoversIn(dir); // temp files of a run that was killed while writing features
    const meta = path.join(dir, 'meta.json');
    if (!fs.existsSync(meta)) {
      writeFileAtomic(meta, JSON.stringify({ boundary, featureShape, inputShape, weightsKey, datasetCacheKey: dataset.cacheKey, created: new Date().toISOString() }, null, 1));
    }
  }
  const fileKeys = dataset.files.map(fileKey);
  const stats: FeatureCacheStats = { computed: 0, fromMemory: 0, fromDisk: 0 };
  const keyOf = (i: number, draw: number) => `${fileKeys[i]}-${augmented ? `d${draw}` : 'clean'}`;
  const memKey = (k: string) => `${weightsKey}|${boundary}|${dataKey}|${k}`;

  function lookup(i: number, draw: number): Float32Array | undefined {
    const k = keyOf(i, draw);
    const m = memGet(memKey(k));
    if (m) {
      stats.fromMemory++;
      return m;
    }
    if (!dir) return undefined;
    const file = path.join(dir, `${k}.f32`);
    if (!fs.existsSync(file)) return undefined;
    const buf = fs.readFileSync(file);
    if (buf.byteLength !== featureSize * 4) return undefined; // foreign or damaged: recompute
    const v = new Float32Array(featureSize);
    new Uint8Array(v.buffer).set(buf);
    memPut(memKey(k), v);
    stats.fromDisk++;
    return v;
  }

  async function compute(indices: number[], draw: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let s = 0; s < indices.length; s += batchSize) {
      const chunk = indices.slice(s, s + batchSize);
      const b = await dataset.load(chunk, augmented ? { epoch: draw } : {});
      let feats: tf.Tensor | undefined;
      try {
        feats = tf.tidy(() => runPlan(plan, [b.xs], false)[0]);
        const all = (await feats.data()) as Float32Array;
        chunk.forEach((i, j) => {
          const v = all.slice(j * featureSize, (j + 1) * featureSize);
          const k = keyOf(i, draw);
          memPut(memKey(k), v);
          if (dir) {
            try {
              writeFileAtomic(path.join(dir, `${k}.f32`), new Uint8Array(v.buffer), { fsync: false });
            } catch (e) {
              throw new Error(`cachedFeatures: ${(e as Error).message} The feature cache is in ${root}: free space there, ` +
                'point dir at another disk, or pass dir: null to keep the features in memory only.', { cause: e });
            }
          }
          out.push(v);
        });
        stats.computed += chunk.length;
      } finally {
        tf.dispose([b.xs, b.ys as tf.Tensor, feats as tf.Tensor]);
      }
    }
    return out;
  }

  async function features(indices: number[], draw: number): Promise<Float32Array[]> {
    const found = indices.map((i) => lookup(i, draw));
    const missing = indices.filter((_, j) => !found[j]);
    if (missing.length) {
      const made = await compute(missing, draw);
      let m = 0;
      found.forEach((v, j) => (found[j] = v ?? made[m++]));
    }
    return found as Float32Array[];
  }

  const size = dataset.size;
  const cache: FeatureDataset = {
    kind: 'features',
    boundary,
    featureShape,
    dataset,
    classNames: dataset.classNames,
    labels: dataset.labels,
    size,
    batchSize,
    numBatches: Math.ceil(size / batchSize),
    drawsPerImage: draws,
    weightsKey,
    dir,
    stats,
    async *batches(o: { epoch?: number } = {}) {
      const epoch = o.epoch ?? 0;
      const draw = epoch % draws;
      const order = epochOrder(size, shuffle, seed, epoch);
      for (let s = 0; s < size; s += batchSize) {
        const indices = order.slice(s, s + batchSize);
        const feats = await features(indices, draw);
        const buf = new Float32Array(indices.length * featureSize);
        feats.forEach((v, j) => buf.set(v, j * featureSize));
        yield { xs: tf.tensor(buf, [indices.length, ...featureShape]), labels: indices.map((i) => dataset.labels[i]), indices };
      }
    },
    async precompute(o = {}) {
      const all = Array.from({ length: size }, (_, i) => i);
      for (let d = 0; d < draws; d++) {
        const t0 = Date.now();
        for (let s = 0; s < size; s += batchSize * 4) await features(all.slice(s, s + batchSize * 4), d);
        if (o.verbose !== false) console.log(`features at "${boundary}": draw ${d + 1}/${draws} ready (${size} images, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    },
    assertMatches(m: tf.LayersModel) {
      const p = planGraph(m, { to: boundary });
      const shape = p.feeds[0].shape.slice(1);
      const key = layersFingerprint(planLayers(p), JSON.stringify(shape));
      if (key !== weightsKey) {
        throw new Error(
          `The features cached at "${boundary}" were computed with other weights than model "${m.name}" has now up to that layer ` +
            `(fine-tuned, or other weights loaded). Call cachedFeatures(model, dataset, ...) again to cache the current ones.`,
        );
      }
    },
  };
  return cache;
}
