// Forward throughput of the three Keras bases (random weights; speed does not depend on them),
// wasm backend, batch 8, at the native input size and a reduced one.
// BENCH_QUICK=1: reduced sizes only, one timed batch each.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { vgg16 } from '../lib/models/applications/vgg16';
import { resnet50 } from '../lib/models/applications/resnet50';
import { inceptionV3 } from '../lib/models/applications/inceptionV3';

const QUICK = process.env.BENCH_QUICK === '1';
const BATCH = 8;
const RUNS = QUICK ? 1 : 2;

type Builder = typeof vgg16;
const CASES: { name: string; build: Builder; sizes: number[] }[] = [
  { name: 'VGG16', build: vgg16, sizes: QUICK ? [112] : [224, 112] },
  { name: 'ResNet50', build: resnet50, sizes: QUICK ? [112] : [224, 112] },
  { name: 'InceptionV3', build: inceptionV3, sizes: QUICK ? [139] : [299, 139] },
];

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(
    `backend ${tf.getBackend()}, batch ${BATCH}, ${RUNS} timed batch(es) after 1 warm-up, includeTop: false`,
  );
  console.log('model        input    s/batch   img/s');
  for (const c of CASES) {
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

void main();
