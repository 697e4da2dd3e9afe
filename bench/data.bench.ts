// Data pipeline throughput: decode+resize and decode+resize+augment images/s on GTSRB-40 (or the
// synthetic set when ../shared is absent), one image at a time vs several in flight, plus how much
// of a simulated training step the prefetch hides. BENCH_QUICK=1: fewer images.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { imageDatasetFromDirectory } from '../lib/data/directory';
import { ImageDataGenerator } from '../lib/data/augment';
import { makeSyntheticSigns } from '../lib/data/synthetic';
import { createImageDataset } from '../lib/data/dataset';
import type { ImageDataset } from '../lib/data/types';

const QUICK = process.env.BENCH_QUICK === '1';
const GTSRB = path.resolve(__dirname, '..', '..', 'shared', 'data', 'gtsrb-40', 'Train');

async function source(): Promise<{ dir: string; label: string }> {
  if (fs.existsSync(GTSRB)) return { dir: GTSRB, label: 'GTSRB-40 Train (real PNG, ~25-150 px)' };
  const r = await makeSyntheticSigns(path.join(os.tmpdir(), 'bench-synthetic-signs'), {});
  return { dir: r.trainDir, label: 'synthetic signs 48 px (GTSRB-40 absent)' };
}

/** Images per second over one epoch of `ds`, consuming each batch (optionally with a fake training step). */
async function epochRate(ds: ImageDataset, stepMs = 0): Promise<{ rate: number; seconds: number }> {
  const t0 = performance.now();
  let n = 0;
  for await (const b of ds.batches({ epoch: 1 })) {
    n += b.labels.length;
    b.xs.dispose();
    b.ys?.dispose();
    if (stepMs) await new Promise((r) => setTimeout(r, stepMs)); // a training step that does not block the thread (like a native backend)
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rate: n / seconds, seconds };
}

(async () => {
  await tf.setBackend('cpu');
  const { dir, label } = await source();
  const all = imageDatasetFromDirectory(dir, { verbose: false, seed: 1 });
  const count = QUICK ? 128 : Math.min(all.size, 640);
  const subset = (opts: Parameters<typeof createImageDataset>[1]) =>
    createImageDataset(
      {
        files: all.files.slice(0, count),
        labels: all.labels.slice(0, count),
        classNames: all.classNames,
        labelMode: 'int',
        defaultImageSize: [224, 224],
        defaultInterpolation: 'bilinear',
      },
      { batchSize: 32, seed: 1, ...opts },
    );
  const aug = new ImageDataGenerator({
    rotationRange: 10,
    widthShiftRange: 0.1,
    heightShiftRange: 0.1,
    zoomRange: 0.1,
    shearRange: 5,
    horizontalFlip: false,
    fillMode: 'nearest',
  });
  console.log(
    `data: ${label}, ${count} images, resized to 224x224, batch 32, ${os.cpus().length} cores, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4}`,
  );
  const rows: [string, number, number][] = [];
  for (const [name, opts] of [
    ['decode+resize, 1 in flight, no prefetch', { concurrency: 1, prefetch: false }],
    ['decode+resize, 8 in flight + prefetch', {}],
    [
      'decode+resize+augment, 1 in flight, no prefetch',
      { concurrency: 1, prefetch: false, augment: aug },
    ],
    ['decode+resize+augment, 8 in flight + prefetch', { augment: aug }],
  ] as const) {
    await epochRate(subset({ ...opts })); // warm-up (file cache, JIT)
    const { rate, seconds } = await epochRate(subset({ ...opts }));
    rows.push([name, rate, seconds]);
  }
  const cached = subset({ cacheDecoded: true, augment: aug });
  await epochRate(cached);
  const c = await epochRate(cached);
  rows.push(['decode cached (cacheDecoded) + resize+augment', c.rate, c.seconds]);
  // Does decoding stall training? A non-blocking 40 ms step per batch, with and without prefetch.
  const step = 40,
    batches = Math.ceil(count / 32);
  const noPre = await epochRate(subset({ prefetch: false, augment: aug }), step);
  const pre = await epochRate(subset({ augment: aug }), step);
  for (const [name, rate, s] of rows)
    console.log(`${name.padEnd(50)} ${rate.toFixed(0).padStart(6)} images/s  (${s.toFixed(2)} s)`);
  console.log(
    `with a ${step} ms training step per batch (${batches} batches, ${((batches * step) / 1000).toFixed(2)} s of steps):`,
  );
  console.log(
    `  no prefetch: ${noPre.seconds.toFixed(2)} s/epoch; prefetch: ${pre.seconds.toFixed(2)} s/epoch (${((100 * (noPre.seconds - pre.seconds)) / noPre.seconds).toFixed(0)}% less)`,
  );
})();
