// Training throughput on the wasm backend (or TFJS_BACKEND via lib/backend), random weights
// (speed does not depend on them), random images of the base's size:
//   1. frozen-base forward (what computing cached features costs), img/s, each base at native and reduced size
//   2. training step img/s, batch 8: base frozen (head GAP → Dense(10), through the base) and with the
//      top block unfrozen (VGG16 block5, ResNet50 conv5_block3, InceptionV3 mixed9-10)
//   3. the headline: one epoch of the VGG16-GTSRB head through the frozen base vs on cached features,
//      and a re-run of the head cell with another dropout (cache found on disk)
// BENCH_QUICK=1: reduced sizes only and fewer images. BENCH_MODELS=VGG16,ResNet50 narrows part 1-2;
// BENCH_HEADLINE=0 skips part 3.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { vgg16 } from '../lib/models/applications/vgg16';
import { architectures } from '../lib/models/architectures';
import { freeze, unfreeze } from '../lib/models/freeze';
import type { Batch, ImageDataset } from '../lib/data/types';
import { buildHead, HEADS, type HeadSpec } from '../lib/train/heads';
import { compile, adam } from '../lib/train/compile';
import { trainPhase } from '../lib/train/loop';
import { cachedFeatures, clearFeatureMemory } from '../lib/train/cache';

const QUICK = process.env.BENCH_QUICK === '1';
const BATCH = 8;
const N = QUICK ? 16 : 32; // images per timed epoch

/** Random images; a real decode pipeline is benchmarked in bench/data. */
function randomImages(n: number, size: number, classes = 10): ImageDataset {
  const ds: ImageDataset = {
    classNames: Array.from({ length: classes }, (_, i) => String(i)),
    files: Array.from({ length: n }, (_, i) => `/bench/random/${size}/${i}.png`),
    labels: Array.from({ length: n }, (_, i) => i % classes),
    size: n,
    batchSize: BATCH,
    imageSize: [size, size],
    labelMode: 'int',
    numBatches: Math.ceil(n / BATCH),
    augmented: false,
    cacheKey: `bench-random-${size}`,
    async load(indices: number[]): Promise<Batch> {
      const labels = indices.map((i) => ds.labels[i]);
      return {
        xs: tf.randomUniform(
          [indices.length, size, size, 3],
          -1,
          1,
          'float32',
          indices[0],
        ) as tf.Tensor4D,
        labels,
        indices,
      };
    },
    async *batches() {
      for (let s = 0; s < n; s += BATCH)
        yield ds.load(Array.from({ length: Math.min(BATCH, n - s) }, (_, j) => s + j));
    },
    withoutAugmentation: () => ds,
  };
  return ds;
}

// Every registered base: native and reduced size (quick: 64 px, or the base's minimum), trained
// from the first layer of its last block.
const CASES = architectures().map((a) => ({
  name: a.displayName,
  build: a.build,
  sizes: QUICK ? [Math.max(64, a.minSize)] : [a.defaultSize, a.benchSize],
  topBlockFrom: a.boundaries.lastBlockFrom,
}));

async function useBackend(): Promise<string> {
  if (process.env.TFJS_BACKEND) {
    const { initBackend } = await import('../lib/backend');
    return (await initBackend()).backend;
  }
  await tf.setBackend('wasm');
  await tf.ready();
  return 'wasm';
}

/** wasm has no Conv2DBackpropFilter; lib/backend/wasm-gradients adds it when present. */
async function tryWasmGradients(): Promise<boolean> {
  if (tf.getBackend() !== 'wasm') return true;
  const modulePath = '../lib/backend/wasm-gradients';
  try {
    const m = (await import(modulePath)) as { registerWasmGradientKernels?: () => void };
    m.registerWasmGradientKernels?.();
    return Boolean(m.registerWasmGradientKernels);
  } catch {
    return false;
  }
}

const gapHead: HeadSpec = [{ type: 'globalAveragePooling' }, { type: 'output', classes: 10 }];
const fmt = (v: number, w = 8) =>
  (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : 'n/a').padStart(w);

async function epochSeconds(
  model: tf.LayersModel,
  train: Parameters<typeof trainPhase>[0]['train'],
): Promise<number> {
  const h = await trainPhase({ model, train, epochs: 1, verbose: 0 });
  return h.epochs[0].seconds;
}

async function main(): Promise<void> {
  const backend = await useBackend();
  const grads = await tryWasmGradients();
  console.log(
    `backend ${backend}, batch ${BATCH}, ${N} images per timing, random weights${grads ? '' : ' (no conv gradient kernels on wasm: unfrozen rows n/a)'}`,
  );
  console.log(
    'model        input    forward img/s   train img/s (frozen)   train img/s (top block)',
  );
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-train-'));
  const only = process.env.BENCH_MODELS?.split(',').map((s) => s.trim().toLowerCase());
  for (const c of CASES.filter((k) => !only || only.includes(k.name.toLowerCase()))) {
    for (const size of c.sizes) {
      const base = await c.build({ includeTop: false, weights: null, inputShape: [size, size, 3] });
      freeze(base);
      const model = buildHead(base, gapHead);
      const data = randomImages(N, size);
      // 1. frozen-base forward, as the feature cache runs it (warm-up batch first).
      await (
        await cachedFeatures(base, randomImages(BATCH, size), { dir: null })
      ).precompute({ verbose: false });
      const t0 = performance.now();
      await (await cachedFeatures(base, data, { dir: null })).precompute({ verbose: false });
      const fwd = N / ((performance.now() - t0) / 1000);
      // 2a. training through the frozen base.
      compile(model, {
        optimizer: adam({ learningRate: 1e-3 }),
        loss: 'sparseCategoricalCrossentropy',
      });
      await epochSeconds(model, randomImages(BATCH, size));
      const frozen = N / (await epochSeconds(model, data));
      // 2b. top block unfrozen.
      let top = NaN;
      if (grads) {
        unfreeze(model, { from: c.topBlockFrom });
        compile(model, {
          optimizer: adam({ learningRate: 1e-5 }),
          loss: 'sparseCategoricalCrossentropy',
        });
        await epochSeconds(model, randomImages(BATCH, size));
        top = N / (await epochSeconds(model, data));
      }
      console.log(
        `${c.name.padEnd(12)} ${`${size}x${size}`.padEnd(8)} ${fmt(fwd, 13)}   ${fmt(frozen, 20)}   ${fmt(top, 23)}`,
      );
      model.dispose();
      clearFeatureMemory();
    }
  }

  if (process.env.BENCH_HEADLINE !== '0') await headline(cacheRoot);
  fs.rmSync(cacheRoot, { recursive: true, force: true });
}

/** 3. The headline: VGG16-GTSRB head, one epoch through the base vs on cached features. */
async function headline(cacheRoot: string): Promise<void> {
  const size = QUICK ? 64 : 112;
  const base = await vgg16({ includeTop: false, weights: null, inputShape: [size, size, 3] });
  freeze(base);
  const data = randomImages(N, size, 43);
  const head = (dropout: number) =>
    compile(buildHead(base, HEADS.vgg16Gtsrb({ dropout })), {
      optimizer: adam({ learningRate: 1e-4 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
  const through = await epochSeconds(head(0.6), data);
  const m = head(0.6);
  const cache = await cachedFeatures(m, data, { dir: cacheRoot });
  const first = await epochSeconds(m, cache); // computes and stores the features
  const cached = await epochSeconds(m, cache); // reads them from memory
  clearFeatureMemory();
  const t0 = performance.now();
  const m2 = head(0.4); // the re-run cell: another dropout, same frozen base
  const again = await cachedFeatures(m2, data, { dir: cacheRoot });
  const rerunEpoch = await epochSeconds(m2, again);
  const rerun = (performance.now() - t0) / 1000;
  console.log(`\nVGG16-GTSRB head, ${size}x${size}, ${N} images, one epoch:`);
  console.log(`  through the frozen base      ${through.toFixed(2)} s`);
  console.log(
    `  first epoch with the cache   ${first.toFixed(2)} s (computes and stores the features)`,
  );
  console.log(
    `  on cached features (memory)  ${cached.toFixed(3)} s  -> ${(through / cached).toFixed(0)}x faster`,
  );
  console.log(
    `  re-run with dropout 0.4      ${rerun.toFixed(3)} s (new head + cache found on disk + epoch ${rerunEpoch.toFixed(3)} s; ${again.stats.fromDisk} from disk, ${again.stats.computed} computed)`,
  );
  console.log(
    `  at GTSRB-40 scale (1,204 train images): ~${((through * 1204) / N / 60).toFixed(1)} min/epoch through the base vs ~${((cached * 1204) / N).toFixed(1)} s on the cache`,
  );
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
