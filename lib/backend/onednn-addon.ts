// Loads the optional native addon (native/onednn.cc, built by native/build.js at `npm install`)
// and keeps the per-weight-array caches of oneDNN's reordered weights.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onInPlaceWrite } from './in-place';

/** Activation codes the addon fuses into convolutions and matmuls. */
export const ONEDNN_ACTIVATIONS: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  sigmoid: 5,
};

/** An opaque native handle owning reordered copies of one weight array. */
export type WeightCacheHandle = { readonly __weightCache: unique symbol };

/** The addon's functions; every array is caller-owned, outputs are written in place. */
export interface OnednnAddon {
  conv2dForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    params: Int32Array,
    activation: number,
    alpha: number,
    cache?: WeightCacheHandle,
  ): void;
  conv2dBackwardData(
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array,
    params: Int32Array,
    cache?: WeightCacheHandle,
  ): void;
  conv2dBackwardWeights(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    params: Int32Array,
  ): void;
  matmul(
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    c: Float32Array,
    params: Int32Array,
    activation: number,
    alpha: number,
  ): void;
  pool(x: Float32Array, y: Float32Array, params: Int32Array, isMax: boolean): void;
  poolBackward(
    dy: Float32Array,
    x: Float32Array | null,
    dx: Float32Array,
    params: Int32Array,
    isMax: boolean,
  ): void;
  batchNorm(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    offset: Float32Array | null,
    y: Float32Array,
    channels: number,
    epsilon: number,
  ): void;
  relu(x: Float32Array, y: Float32Array): void;
  /** y = big op small, big [outer, mid, inner], small [outer, inner]; op 0 add, 1 sub, 2 mul, 3 div. */
  binary(
    op: number,
    big: Float32Array,
    small: Float32Array,
    y: Float32Array,
    outer: number,
    mid: number,
    inner: number,
    swapped: boolean,
  ): void;
  /** y = op(x): 0 sqrt, 1 square, 2 rsqrt, 3 neg, 4 abs. */
  unary(op: number, x: Float32Array, y: Float32Array): void;
  /** y[o, i] = sum (op 0) or mean (op 1) over m of x[o, m, i]. */
  reduce(
    op: number,
    x: Float32Array,
    y: Float32Array,
    outer: number,
    mid: number,
    inner: number,
  ): void;
  concat(parts: Float32Array[], y: Float32Array, outer: number, widths: Int32Array): void;
  split(x: Float32Array, parts: Float32Array[], outer: number, widths: Int32Array): void;
  step(x: Float32Array, y: Float32Array, alpha: number): void;
  /**
   * Keras' Adam update of every variable of a step in place (ws[i], ms[i], vs[i] with gradient
   * gs[i]), in double like the JS loop, in one call split over threads by element.
   */
  adamSteps(
    ws: Float32Array[],
    ms: Float32Array[],
    vs: Float32Array[],
    gs: Float32Array[],
    beta1: number,
    beta2: number,
    alpha: number,
    epsilon: number,
  ): void;
  /** Batch norm with batch statistics over NHWC x (params [N, H, W, C, hasScale, hasShift]); writes y, mean, biased variance. */
  bnormTrain(
    x: Float32Array,
    scale: Float32Array | null,
    shift: Float32Array | null,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    params: Int32Array,
    epsilon: number,
  ): void;
  bnormTrainBackward(
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    shift: Float32Array | null,
    dx: Float32Array,
    dscale: Float32Array | null,
    dshift: Float32Array | null,
    params: Int32Array,
    epsilon: number,
  ): void;
  /** Backward of bias + activation: dx = dy masked where y <= 0 (relu; skipped without y), db = column sums. */
  biasActGrad(
    dy: Float32Array,
    y: Float32Array | null,
    dx: Float32Array | null,
    db: Float32Array,
    channels: number,
  ): void;
  pad(
    x: Float32Array,
    y: Float32Array,
    xShape: Int32Array,
    before: Int32Array,
    yShape: Int32Array,
    value: number,
  ): void;
  /** y = the box of x at `begin` with y's shape (rank <= 8). */
  slice(
    x: Float32Array,
    y: Float32Array,
    xShape: Int32Array,
    begin: Int32Array,
    yShape: Int32Array,
  ): void;
  newWeightCache(): WeightCacheHandle;
  /** Marks every reordered copy in the cache stale: the next use reorders into the same buffer. */
  staleWeightCache(cache: WeightCacheHandle): void;
  info(): {
    version: string;
    runtime: string;
    threads: number;
    isa: string;
    impls: Record<string, string>;
    /** Calls per implementation choice the addon makes itself (e.g. the weight gradient's). */
    paths: Record<string, number>;
    cachedPrimitives: number;
    deterministic: boolean;
  };
  clearCaches(): void;
  /** Every kernel on all threads (reproducible sums) instead of the adaptive 1-or-all pick. */
  setDeterministic(on: boolean): void;
}

export const ONEDNN_ADDON_PATH = path.resolve(
  __dirname,
  '..',
  '..',
  'native',
  'build',
  'Release',
  'onednn.node',
);

let loaded: { addon: OnednnAddon } | { error: string } | undefined;

/** The addon, or the reason it cannot be used (one line, says the fix). */
export function loadOnednnAddon(): { addon: OnednnAddon } | { error: string } {
  if (loaded) return loaded;
  if (!fs.existsSync(ONEDNN_ADDON_PATH)) {
    const why = fs.existsSync('/usr/include/dnnl.hpp')
      ? 'run `node native/build.js` (or npm install) to build it'
      : 'install libdnnl-dev (apt-get install libdnnl-dev), then `node native/build.js`';
    loaded = { error: `oneDNN addon not built (${ONEDNN_ADDON_PATH} missing): ${why}` };
    return loaded;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { addon: require(ONEDNN_ADDON_PATH) as OnednnAddon };
  } catch (e) {
    loaded = {
      error: `oneDNN addon failed to load from ${ONEDNN_ADDON_PATH}: ${(e as Error).message.split('\n')[0]}; rebuild with \`node native/build.js\``,
    };
  }
  return loaded;
}

// Weight caches live exactly as long as the Float32Array they mirror. Code that writes into a
// tensor's array in place (the one-pass Adam step) says so through lib/backend/in-place, which
// marks the cache stale: its copies are reordered again, into the same buffers, on next use (a
// trained weight is rewritten every step, and a new cache each step meant fresh memory and page
// faults for every reordered conv weight). A caller may also build a tensor over a buffer it reuses,
// so a few sampled values are compared on each use as a second guard (a sample cannot see every
// change: a conv filter whose sampled entries do not move — a dead ReLU channel — kept a stale
// cache until the in-place writes were announced).
const SAMPLES = 16;
type Entry = { handle: WeightCacheHandle; sample: Float32Array; addon: OnednnAddon };
const weightCaches = new WeakMap<Float32Array, Entry>();
onInPlaceWrite((_t, values) => {
  if (!(values instanceof Float32Array)) return;
  const hit = weightCaches.get(values);
  if (!hit) return;
  hit.addon.staleWeightCache(hit.handle);
  hit.sample = sampleOf(values); // the announced values are the current ones
});

function sampleOf(w: Float32Array): Float32Array {
  const s = new Float32Array(SAMPLES);
  const step = Math.max(1, Math.floor(w.length / SAMPLES));
  // Offset by i as well: a stride that is a multiple of the output channels would sample one
  // channel only (a [3,3,512,512] kernel's stride 147456 hits channel 0 sixteen times).
  for (let i = 0; i < SAMPLES && i < w.length; i++) s[i] = w[(i * step + i) % w.length];
  return s;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** The native cache of reordered copies of `w` (created on first use). */
export function weightCacheFor(addon: OnednnAddon, w: Float32Array): WeightCacheHandle {
  const sample = sampleOf(w);
  const hit = weightCaches.get(w);
  if (hit && sameBits(hit.sample, sample)) return hit.handle;
  const entry = { handle: addon.newWeightCache(), sample, addon };
  weightCaches.set(w, entry);
  return entry.handle;
}
