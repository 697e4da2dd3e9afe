// Forward throughput of every registered Keras base (random weights; speed does not depend on them),
// wasm backend, batch 8, at the native input size and a reduced one (the record's benchSize).
// BENCH_QUICK=1: reduced sizes only, one timed batch each.
import * as tf from '@tensorflow/tfjs';
import { architectures, type Architecture } from '../lib/models/architectures';

const QUICK = process.env.BENCH_QUICK === '1';
const BATCH = 8;
const RUNS = QUICK ? 1 : 2;

/** One row per base and input size, from the registry. */
export function benchCases(archs: Architecture[] = architectures(), quick = QUICK) {
  return archs.map((a) => ({
    name: a.displayName,
    build: a.build,
    sizes: quick ? [a.benchSize] : [a.defaultSize, a.benchSize],
  }));
}

async function main(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(
    `backend ${tf.getBackend()}, batch ${BATCH}, ${RUNS} timed batch(es) after 1 warm-up, includeTop: false`,
  );
  console.log('model        input    s/batch   img/s');
  for (const c of benchCases()) {
    for (const size of c.sizes) {
      const model = await c.build({
        includeTop: false,
        weights: null,
        inputShape: [size, size, 3],
      });
      const x = tf.randomUniform([BATCH, size, size, 3], -1, 1);
      tf.dispose(model.predict(x) as tf.Tensor); // warm-up: kernel setup, weight packing
      const t0 = performance.now();
      for (let i = 0; i < RUNS; i++) {
        const y = model.predict(x) as tf.Tensor;
        await y.data();
        y.dispose();
      }
      const s = (performance.now() - t0) / 1000 / RUNS;
      console.log(
        `${c.name.padEnd(12)} ${`${size}x${size}`.padEnd(8)} ${s.toFixed(2).padStart(7)}  ${(BATCH / s).toFixed(2).padStart(6)}`,
      );
      x.dispose();
      model.dispose();
    }
  }
}

if (require.main === module) void main();
