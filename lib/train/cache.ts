// Cached features: run the frozen part of a model once per image (and once per augmentation draw,
// for K cached draws), then train what comes after on the stored outputs.
//
// On a CPU a frozen VGG16/ResNet50/InceptionV3 forward pass costs ~1 s per image; re-running it every
// epoch is what makes "tweak the head, re-run the cell" take hours. Here the first epoch (or the
// first K epochs, with augmentation) computes and stores the features; later epochs, later phases
// and re-runs of the cell read them back from memory or disk in milliseconds. This module computes;
// lib/train/feature-store.ts keys and keeps the results (memory LRU and disk).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { CACHE_DIR } from '../config';
import { rngFor, shuffled } from '../rng';
import { progressReporter } from '../io/progress';
import { chunked, forEachBatch } from '../io/batches';
import { interruptible } from '../io/interrupt';
import { FeatureStore } from './feature-store';
import { layersFingerprint } from './fingerprint';
import { planGraph, planLayers, runPlan, type GraphPlan } from './graph';
import { headBoundary } from './heads';

export { clearFeatureMemory, featureMemoryBytes } from './feature-store';

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

/** A dataset of features cached at `boundary`: what trainPhase / evaluateMetrics accept instead of images. */
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
  /**
   * Cache the output of this layer. Default: the end of the frozen layers (the last layer of the
   * leading frozen run of model.layers, so `freeze(model, { upTo: 249 })` caches at layer 248), but
   * no later than where buildHead attached the head; with nothing frozen, where buildHead attached
   * the head, else the model's output layer.
   */
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

/** The order of one epoch: shuffled by (seed, epoch) with lib/data's PRNG, or as listed. */
function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return shuffle ? shuffled(order, rngFor(seed, epoch, 0xcafe)) : order;
}

/**
 * The end of the frozen layers: the last frozen layer of `model.layers` before the first one with
 * trainable weights (input layers and weightless trainable layers such as PreprocessInput are passed
 * over), capped at where buildHead attached the head. Undefined when nothing is frozen at the start.
 */
export function frozenBoundary(model: tf.LayersModel): string | undefined {
  const layers = model.layers;
  let end = -1;
  for (let i = 0; i < layers.length; i++) {
    if (layers[i].trainableWeights.length > 0) break; // the same test trainPhase uses for a stale cache
    if (!layers[i].trainable && layers[i].getClassName() !== 'InputLayer') end = i;
  }
  if (end < 0) return undefined;
  const head = headBoundary(model);
  const headIndex = head === undefined ? -1 : layers.findIndex((l) => l.name === head);
  return headIndex >= 0 && headIndex < end ? head : layers[end].name;
}

/** The model (or its bottom part) features are computed with, and the boundary layer's name. */
function bottomPlanOf(
  model: tf.LayersModel,
  layer: string | undefined,
): { plan: GraphPlan; boundary: string } {
  if (layer !== undefined) return { plan: planGraph(model, { to: layer }), boundary: layer };
  const frozenEnd = frozenBoundary(model);
  const boundary = frozenEnd ?? headBoundary(model) ?? model.outputs[0].sourceLayer.name;
  if (frozenEnd !== undefined) {
    try {
      planGraph(model, { from: frozenEnd });
    } catch {
      throw new Error(
        `cachedFeatures: the frozen layers of model "${model.name}" end at "${frozenEnd}", where the model cannot be split ` +
          `(another path goes around it). Freeze up to a block boundary, or pass { layer } with a block output before it ` +
          `(such as 'block4_pool', 'mixed8' or 'conv5_block2_out').`,
      );
    }
  }
  return { plan: planGraph(model, { to: boundary }), boundary };
}

/**
 * Features of `dataset` at a layer of `model`, cached in memory and on disk, ready for trainPhase /
 * evaluateMetrics in place of the images.
 *
 *   cachedFeatures(base, train)                          // the base's output (head training)
 *   cachedFeatures(model, train)                         // the end of the frozen layers
 *   cachedFeatures(model, train, { layer: 'mixed8' })    // a block boundary of your choice
 *
 * Features are computed lazily (during the first epoch that needs them) in inference mode, which is
 * exactly what a frozen part computes during training in Keras (a frozen BatchNormalization uses its
 * moving statistics). With an augmented dataset, draw k of image i is the augmentation the dataset
 * gives at epoch k; epoch e trains on draw e mod K.
 */
export async function cachedFeatures(
  model: tf.LayersModel,
  dataset: ImageDataset,
  opts: CachedFeaturesOptions = {},
): Promise<FeatureDataset> {
  if (!dataset || typeof dataset.load !== 'function') {
    throw new Error(
      'cachedFeatures: the second argument must be an ImageDataset from lib/data (imageDatasetFromDirectory, flowFromDirectory, ...).',
    );
  }
  const { plan, boundary } = bottomPlanOf(model, opts.layer);
  const augmented = dataset.augmented;
  const draws = augmented ? (opts.drawsPerImage ?? 1) : 1;
  if (!(Number.isInteger(draws) && draws >= 1))
    throw new Error(
      `cachedFeatures: drawsPerImage must be a whole number >= 1 (got ${opts.drawsPerImage}).`,
    );
  if (augmented && opts.drawsPerImage === undefined) {
    console.log(
      `cachedFeatures: the dataset is augmented and drawsPerImage is 1, so every epoch trains on the same augmented copy of each image. Pass drawsPerImage: K to cycle through K draws (the first K epochs compute them).`,
    );
  }
  const batchSize = opts.batchSize ?? dataset.batchSize;
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new Error(`cachedFeatures: batchSize must be a whole number >= 1 (got ${batchSize}).`);
  const inputShape = plan.feeds[0].shape.slice(1);
  const featureShape = plan.fetches[0].shape.slice(1).map((d) => {
    if (d === null)
      throw new Error(
        `cachedFeatures: layer "${boundary}" has an unknown output size; build the base with a fixed inputShape.`,
      );
    return d;
  });
  const weightsKey = layersFingerprint(planLayers(plan), JSON.stringify(inputShape));
  const root = opts.dir === null ? null : (opts.dir ?? path.join(CACHE_DIR, 'features'));
  const store = new FeatureStore({ root, boundary, weightsKey, dataset, featureShape, inputShape });
  return new CachedFeatures(plan, boundary, featureShape, dataset, store, weightsKey, {
    batchSize,
    draws,
    shuffle: opts.shuffle ?? true,
    seed: opts.seed ?? 42,
  });
}

/** A FeatureDataset that computes missing entries with the bottom part of the model and keeps them in a FeatureStore. */
class CachedFeatures implements FeatureDataset {
  readonly kind = 'features' as const;
  readonly stats: FeatureCacheStats = { computed: 0, fromMemory: 0, fromDisk: 0 };

  constructor(
    private readonly plan: GraphPlan,
    readonly boundary: string,
    readonly featureShape: number[],
    readonly dataset: ImageDataset,
    private readonly store: FeatureStore,
    readonly weightsKey: string,
    private readonly o: { batchSize: number; draws: number; shuffle: boolean; seed: number },
  ) {}

  get classNames(): string[] {
    return this.dataset.classNames;
  }
  get labels(): number[] {
    return this.dataset.labels;
  }
  get size(): number {
    return this.dataset.size;
  }
  get batchSize(): number {
    return this.o.batchSize;
  }
  get numBatches(): number {
    return Math.ceil(this.size / this.batchSize);
  }
  get drawsPerImage(): number {
    return this.o.draws;
  }
  get dir(): string | null {
    return this.store.dir;
  }

  async *batches(o: { epoch?: number } = {}): AsyncGenerator<FeatureBatch> {
    const epoch = o.epoch ?? 0;
    const draw = epoch % this.drawsPerImage;
    const order = epochOrder(this.size, this.o.shuffle, this.o.seed, epoch);
    const featureSize = this.store.featureSize;
    for (let s = 0; s < this.size; s += this.batchSize) {
      const wanted = order.slice(s, s + this.batchSize);
      const feats = await this.features(wanted, draw);
      // An image the dataset leaves out (onCorrupt: 'skip') has no features: the batch leaves it out too.
      const indices = wanted.filter((_, j) => feats[j] !== undefined);
      if (indices.length === 0) continue;
      const buf = new Float32Array(indices.length * featureSize);
      let k = 0;
      for (const v of feats) if (v) buf.set(v, featureSize * k++);
      yield {
        xs: tf.tensor(buf, [indices.length, ...this.featureShape]),
        labels: indices.map((i) => this.labels[i]),
        indices,
      };
    }
  }

  async precompute(o: { verbose?: boolean } = {}): Promise<void> {
    const all = Array.from({ length: this.size }, (_, i) => i);
    const chunk = this.batchSize * 4;
    const kept = () =>
      `the features computed so far are cached (${this.stats.computed} this session) and the next call computes only the rest`;
    await interruptible(
      `cachedFeatures at "${this.boundary}"`,
      async () => {
        for (let d = 0; d < this.drawsPerImage; d++) {
          const t0 = Date.now();
          const progress = progressReporter(
            `features at "${this.boundary}", draw ${d + 1}/${this.drawsPerImage}`,
            { total: this.size, unit: 'images', enabled: o.verbose !== false },
          );
          for (let s = 0; s < this.size; s += chunk) {
            const part = all.slice(s, s + chunk);
            await this.features(part, d);
            progress.tick(part.length);
          }
          progress.done(`ready (${this.size} images, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        }
      },
      { kept },
    );
  }

  assertMatches(m: tf.LayersModel): void {
    const p = planGraph(m, { to: this.boundary });
    const key = layersFingerprint(planLayers(p), JSON.stringify(p.feeds[0].shape.slice(1)));
    if (key !== this.weightsKey) {
      throw new Error(
        `The features cached at "${this.boundary}" were computed with other weights than model "${m.name}" has now up to that layer ` +
          `(fine-tuned, or other weights loaded). Call cachedFeatures(model, dataset, ...) again to cache the current ones.`,
      );
    }
  }

  /**
   * The features of these images for one draw: stored ones, and the missing ones computed now;
   * undefined for an image the dataset left out of its batch (onCorrupt: 'skip').
   */
  private async features(indices: number[], draw: number): Promise<(Float32Array | undefined)[]> {
    const found = indices.map((i) => {
      const hit = this.store.get(i, draw);
      if (hit) this.stats[hit.from === 'memory' ? 'fromMemory' : 'fromDisk']++;
      return hit?.features;
    });
    const missing = indices.filter((_, j) => !found[j]);
    if (missing.length) {
      const made = await this.compute(missing, draw);
      found.forEach((v, j) => (found[j] = v ?? made.get(indices[j])));
    }
    return found;
  }

  /** Run the bottom part of the model on these images (one draw), in batches, and store the results. */
  private async compute(indices: number[], draw: number): Promise<Map<number, Float32Array>> {
    // By image index: a batch holds only the images the dataset could decode.
    const out = new Map<number, Float32Array>();
    const featureSize = this.store.featureSize;
    const load = (chunk: number[]) =>
      this.dataset.load(chunk, this.dataset.augmented ? { epoch: draw } : {});
    await forEachBatch(chunked(indices, this.batchSize, load), async (b) => {
      const feats = tf.tidy(() => runPlan(this.plan, [b.xs], false)[0]);
      try {
        const all = (await feats.data()) as Float32Array;
        b.indices.forEach((i, j) => {
          const v = all.slice(j * featureSize, (j + 1) * featureSize);
          this.store.put(i, draw, v);
          out.set(i, v);
        });
        this.stats.computed += b.indices.length;
      } finally {
        feats.dispose();
      }
    });
    return out;
  }
}
