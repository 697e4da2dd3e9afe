// Where cached features live: their keys, a memory LRU shared by every cache, and one file per entry
// on disk. lib/train/cache.ts computes the features; this module only finds and keeps them.
//
// An entry is keyed by: the weights and configs of every layer up to the boundary (weightsKey, so
// fine-tuning them or loading other weights invalidates it), the dataset's cacheKey and image size
// (preprocessing, augmentation parameters and seed), the image file (path, size, mtime) and the
// augmentation draw. On disk: <root>/<boundary>-<weightsKey>/<dataset>/<file>-<draw>.f32, written
// atomically, with a meta.json saying what the folder holds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from '../data/types';
import { writeFileAtomic as atomicWriteFile, removeLeftoversIn } from '../io/atomic';
import { fileKey, shortHash } from './fingerprint';

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

export interface FeatureStoreOptions {
  /** Disk root (one sub-folder per boundary and weights); null keeps entries in memory only. */
  root: string | null;
  /** The layer whose output is stored. */
  boundary: string;
  /** Fingerprint of the weights up to the boundary. */
  weightsKey: string;
  /** The images: its cacheKey, imageSize, files and whether it is augmented enter the keys. */
  dataset: ImageDataset;
  /** Shape of one image's features; entries of another size on disk are ignored (recomputed). */
  featureShape: number[];
  /** The model's input shape, recorded in meta.json. */
  inputShape: (number | null)[];
}

/** The features of one dataset at one boundary with one set of weights, by (image index, draw). */
export class FeatureStore {
  /** Disk folder of this store (null: memory only). */
  readonly dir: string | null;
  /** Numbers per image. */
  readonly featureSize: number;
  private readonly prefix: string;
  private readonly fileKeys: string[];
  private readonly augmented: boolean;

  constructor(o: FeatureStoreOptions) {
    const dataKey = shortHash(`${o.dataset.cacheKey}|${o.dataset.imageSize}`);
    this.featureSize = o.featureShape.reduce((a, b) => a * b, 1);
    this.prefix = `${o.weightsKey}|${o.boundary}|${dataKey}|`;
    this.fileKeys = o.dataset.files.map(fileKey);
    this.augmented = o.dataset.augmented;
    this.dir =
      o.root === null
        ? null
        : path.join(
            path.resolve(o.root),
            `${o.boundary.replace(/[^\w.-]/g, '_')}-${o.weightsKey.slice(0, 16)}`,
            dataKey,
          );
    if (this.dir) {
      fs.mkdirSync(this.dir, { recursive: true });
      removeLeftoversIn(this.dir); // temp files of a killed run (never read: their names end in .tmp-*)
      const meta = path.join(this.dir, 'meta.json');
      if (!fs.existsSync(meta)) {
        const { boundary, featureShape, inputShape, weightsKey } = o;
        const record = {
          boundary,
          featureShape,
          inputShape,
          weightsKey,
          datasetCacheKey: o.dataset.cacheKey,
          created: new Date().toISOString(),
        };
        atomicWriteFile(meta, JSON.stringify(record, null, 1));
      }
    }
  }

  /** The entry's name: the image file's key and the draw (augmented datasets) or 'clean'. */
  private key(index: number, draw: number): string {
    return `${this.fileKeys[index]}-${this.augmented ? `d${draw}` : 'clean'}`;
  }

  /** The stored features of image `index`, draw `draw`, and where they were found; undefined when missing. */
  get(
    index: number,
    draw: number,
  ): { features: Float32Array; from: 'memory' | 'disk' } | undefined {
    const k = this.key(index, draw);
    const inMemory = memGet(this.prefix + k);
    if (inMemory) return { features: inMemory, from: 'memory' };
    if (!this.dir) return undefined;
    const file = path.join(this.dir, `${k}.f32`);
    if (!fs.existsSync(file)) return undefined;
    const buf = fs.readFileSync(file);
    if (buf.byteLength !== this.featureSize * 4) return undefined; // foreign or damaged: recompute
    const features = new Float32Array(this.featureSize);
    new Uint8Array(features.buffer).set(buf);
    memPut(this.prefix + k, features);
    return { features, from: 'disk' };
  }

  /** Keep the features of image `index`, draw `draw`, in memory and on disk. */
  put(index: number, draw: number, features: Float32Array): void {
    const k = this.key(index, draw);
    memPut(this.prefix + k, features);
    if (this.dir)
      atomicWriteFile(
        path.join(this.dir, `${k}.f32`),
        new Uint8Array(features.buffer, features.byteOffset, features.byteLength),
        { fsync: false },
      );
  }
}
