// Conv backprop speed: the wasm gradient kernels (lib/backend/wasm-gradients.ts) against the cpu
// backend and against wasm's own Conv2DBackpropInput, on VGG-like 3x3 'same' layers and on the
// strided layers of ResNet/Inception. Prints ms per call and images/s for a full conv training
// step (forward + input gradient + filter gradient).
// BENCH_QUICK=1: smaller layers, best of 2 timed calls each (else best of 5).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from '../lib/backend/wasm-gradients';

const QUICK = process.env.BENCH_QUICK === '1';
const REPS = QUICK ? 2 : 5;

interface Layer {
  name: string;
  batch: number;
  hw: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
}
const VGG: Layer = QUICK
  ? { name: 'VGG-like 3x3/1 28x28 64->64', batch: 2, hw: 28, cin: 64, cout: 64, k: 3, stride: 1 }
  : {
      name: 'VGG-like 3x3/1 56x56 128->128',
      batch: 4,
      hw: 56,
      cin: 128,
      cout: 128,
      k: 3,
      stride: 1,
    };
// The cpu backend's filter gradient is a naive loop: time it on a smaller layer and scale by FLOPs.
const VGG_CPU: Layer = {
  name: 'VGG-like 3x3/1 14x14 64->64',
  batch: 2,
  hw: 14,
  cin: 64,
  cout: 64,
  k: 3,
  stride: 1,
};
const STRIDED: Layer[] = [
  {
    name: 'ResNet-like 1x1/2 28x28 256->128',
    batch: 2,
    hw: 28,
    cin: 256,
    cout: 128,
    k: 1,
    stride: 2,
  },
  {
    name: 'Inception-like 3x3/2 35x35 64->96',
    batch: 2,
    hw: 35,
    cin: 64,
    cout: 96,
    k: 3,
    stride: 2,
  },
];

/** Best-of-REPS ms of `fn` after one warm-up call (waits for the data each time). The best, not
 *  the mean: this machine's cores are shared, and the minimum is the least disturbed run. */
async function timeMs(fn: () => tf.Tensor): Promise<number> {
  const warm = fn();
  await warm.data();
  warm.dispose();
  let best = Infinity;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const out = fn();
    await out.data();
    out.dispose();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

interface Timings {
  forward: number;
  input: number;
  filter: number;
}

async function timeLayer(l: Layer): Promise<Timings> {
  const pad = 'same';
  const x = tf.randomNormal([l.batch, l.hw, l.hw, l.cin]) as tf.Tensor4D;
  const w = tf.randomNormal([l.k, l.k, l.cin, l.cout]) as tf.Tensor4D;
  const y = tf.conv2d(x, w, l.stride, pad);
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const attrs = { strides: l.stride, pad, dataFormat: 'NHWC' };
  const forward = await timeMs(() => tf.conv2d(x, w, l.stride, pad));
  const input = await timeMs(
    () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          { ...attrs, inputShape: x.shape },
        ) as tf.Tensor,
  );
  const filter = await timeMs(
    () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { ...attrs, filterShape: w.shape },
        ) as tf.Tensor,
  );
  tf.dispose([x, w, y, dy]);
  return { forward, input, filter };
}

const flops = (l: Layer): number =>
  2 * l.batch * (l.hw / l.stride) ** 2 * l.k * l.k * l.cin * l.cout;
const fmt = (ms: number): string => (Number.isNaN(ms) ? '   n/a' : ms.toFixed(1).padStart(8));

function report(backend: string, l: Layer, t: Timings): number {
  const step = t.forward + t.input + t.filter;
  const imgs = (l.batch * 1000) / step;
  console.log(
    `${backend.padEnd(22)} ${l.name.padEnd(34)} fwd ${fmt(t.forward)} ms  dx ${fmt(t.input)} ms  ` +
      `dW ${fmt(t.filter)} ms  -> ${imgs.toFixed(1)} img/s (${((3 * flops(l)) / step / 1e6).toFixed(2)} GFLOP/s)`,
  );
  return imgs;
}

async function main(): Promise<void> {
  console.log(
    `batch per layer as shown; best of ${REPS} timed calls each${QUICK ? ' (BENCH_QUICK)' : ''}`,
  );
  await tf.setBackend('wasm');
  // wasm's own Conv2DBackpropInput before ours replaces it (it has no filter gradient at all).
  const nativeInput: number[] = [];
  for (const l of [VGG, ...STRIDED]) {
    const x = tf.randomNormal([l.batch, l.hw, l.hw, l.cin]) as tf.Tensor4D;
    const w = tf.randomNormal([l.k, l.k, l.cin, l.cout]) as tf.Tensor4D;
    const dy = tf.randomNormal(tf.conv2d(x, w, l.stride, 'same').shape) as tf.Tensor4D;
    nativeInput.push(
      await timeMs(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter: w },
              { strides: l.stride, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape },
            ) as tf.Tensor,
      ),
    );
    tf.dispose([x, w, dy]);
  }
  registerWasmGradientKernels();
  const wasmVgg = report('wasm', VGG, await timeLayer(VGG));
  console.log(
    `${'wasm (own dx kernel)'.padEnd(22)} ${VGG.name.padEnd(34)} dx ${fmt(nativeInput[0]!)} ms`,
  );
  for (const [i, l] of STRIDED.entries()) {
    report('wasm', l, await timeLayer(l));
    console.log(
      `${'wasm (own dx kernel)'.padEnd(22)} ${l.name.padEnd(34)} dx ${fmt(nativeInput[i + 1]!)} ms`,
    );
  }
  const wasmSmall = report('wasm', VGG_CPU, await timeLayer(VGG_CPU));
  await tf.setBackend('cpu');
  const cpuSmall = report('cpu', VGG_CPU, await timeLayer(VGG_CPU));
  const cpuScaled = (cpuSmall * flops(VGG_CPU)) / flops(VGG);
  console.log(
    `\nVGG-like layer training step: wasm ${wasmVgg.toFixed(1)} img/s; cpu ~${cpuScaled.toPrecision(2)} img/s ` +
      `(scaled from the ${VGG_CPU.hw}x${VGG_CPU.hw} layer by FLOPs); on the small layer wasm/cpu = ${(wasmSmall / cpuSmall).toFixed(0)}x`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
