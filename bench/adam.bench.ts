// Where the time of one Adam step goes, for ResNet50's 23.5 M parameters on the onednn backend.
//   1. trainOnBatch with SGD and with Adam (Keras defaults, lr 1e-4), 32 px batch 8 (BENCH_SIZE,
//      BENCH_BATCH): the difference is what Adam costs a training step.
//   2. applyGradients alone on the model's trainable weights with fixed random gradients, split into
//      the native update loop, the in-place announcements (lib/backend/in-place) and the rest (JS
//      bookkeeping: dataSync, ownership checks, tfjs' state).
//   3. The memory-traffic bound: an Adam step reads w, m, v, g and writes w, m, v (7 × 4 bytes per
//      parameter); the machine's copy bandwidth (one read + one write) turns that into milliseconds.
// Each figure is the best of BENCH_ITERS (5) timed runs after 2 warm-ups, the training steps over
// BENCH_ROUNDS (3) alternating rounds: the machine may be shared, and the best run is the least disturbed.
// BENCH_SIZE=64 BENCH_BATCH=32 gives the bench's "ResNet50 full 64 px" row's step.
import * as tf from '@tensorflow/tfjs';
import { registerOnednnBackend, onednnInfo } from '../lib/backend/onednn';
import { loadOnednnAddon } from '../lib/backend/onednn-addon';
import * as inPlace from '../lib/backend/in-place';
import { resnet50 } from '../lib/models/applications/resnet50';
import { compile, sgd, adam } from '../lib/train/compile';
import { trainOnBatch } from '../lib/train/step';
import { FusedAdamOptimizer } from '../lib/train/adam';

const SIZE = Number(process.env.BENCH_SIZE ?? 32);
const BATCH = Number(process.env.BENCH_BATCH ?? 8);
const ITERS = Number(process.env.BENCH_ITERS ?? 5);
const WARMUP = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function best(f: () => unknown | Promise<unknown>, n = ITERS): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await f();
  let ms = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

async function main(): Promise<void> {
  const reg = registerOnednnBackend();
  if (!reg.ok) {
    console.log(`onednn backend unavailable (${reg.reason}): nothing to measure.`);
    return;
  }
  await tf.setBackend('onednn');
  const info = onednnInfo();
  console.log(
    `oneDNN ${info.version} (${info.isa}, ${info.threads} threads); best of ${ITERS} after ${WARMUP} warm-ups`,
  );
  const model = await resnet50({ includeTop: false, weights: null, inputShape: [SIZE, SIZE, 3] });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const params = vars.reduce((s, v) => s + v.size, 0);
  console.log(`ResNet50 (no top): ${vars.length} trainable variables, ${params} parameters`);

  // 1. Training steps, SGD and Adam alternating (ROUNDS rounds), so load from other processes falls on
  // both alike; each figure is the best step seen, with the optimizer's share of that step.
  const pooled = tf.layers.globalAveragePooling2d({}).apply(model.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 10, activation: 'softmax' })
    .apply(pooled) as tf.SymbolicTensor;
  const full = tf.model({ inputs: model.inputs, outputs: out });
  const x = tf.randomUniform([BATCH, SIZE, SIZE, 3], -1, 1);
  const labels = Array.from({ length: BATCH }, (_, i) => i % 10);
  const optimizers = [
    ['SGD', sgd({ learningRate: 0.01 })],
    ['Adam', adam({ learningRate: 1e-4 })],
  ] as const;
  const steps: Record<string, { ms: number; applyMs: number }> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, spec] of optimizers) {
      compile(full, { optimizer: spec });
      const opt = full.optimizer;
      const apply = opt.applyGradients.bind(opt);
      let applyMs = 0;
      opt.applyGradients = (g) => {
        const t0 = performance.now();
        apply(g);
        applyMs = performance.now() - t0;
      };
      for (let i = 0; i < WARMUP + ITERS; i++) {
        const t0 = performance.now();
        await trainOnBatch(full, x, labels);
        const ms = performance.now() - t0;
        if (i >= WARMUP && ms < (steps[name]?.ms ?? Infinity)) steps[name] = { ms, applyMs };
      }
    }
  }
  for (const [name] of optimizers)
    console.log(
      `trainOnBatch ${SIZE} px batch ${BATCH}, ${name}: ${steps[name].ms.toFixed(0)} ms ` +
        `(${((BATCH * 1000) / steps[name].ms).toFixed(1)} img/s), of which applyGradients ${steps[name].applyMs.toFixed(0)} ms`,
    );

  // 2. applyGradients alone, the same variables, fixed gradients.
  const grads: { name: string; tensor: tf.Tensor }[] = vars.map((v) => ({
    name: v.name,
    tensor: tf.randomNormal(v.shape, 0, 1e-3),
  }));
  const opt = new FusedAdamOptimizer(1e-4, 0.9, 0.999, 1e-7);
  const loaded = loadOnednnAddon();
  if (!('addon' in loaded)) throw new Error(loaded.error);
  const addon = loaded.addon;
  const allMs = await best(() => opt.applyGradients(grads));
  // The native loop's share: the addon's entry point wrapped with a timer for a few more steps.
  const native = addon.adamSteps;
  let nativeMs = 0;
  addon.adamSteps = (...a) => {
    const t0 = performance.now();
    native.apply(addon, a);
    nativeMs += performance.now() - t0;
  };
  let split = { all: Infinity, native: 0 };
  try {
    for (let i = 0; i < ITERS; i++) {
      nativeMs = 0;
      const t0 = performance.now();
      opt.applyGradients(grads);
      const all = performance.now() - t0;
      if (all < split.all) split = { all, native: nativeMs };
    }
  } finally {
    addon.adamSteps = native;
  }
  // What announcing every variable's in-place write costs (the listeners: oneDNN weight cache,
  // value fingerprints), timed on its own as the step makes them.
  const announceMs = await best(() => {
    for (const v of vars) inPlace.wroteInPlace(v, v.dataSync());
  });
  console.log(
    `applyGradients alone: ${allMs.toFixed(1)} ms; of the best of ${ITERS} timed again (${split.all.toFixed(1)} ms): ` +
      `native loop ${split.native.toFixed(1)}, JavaScript ${(split.all - split.native).toFixed(1)} ` +
      `(announcing ${vars.length} in-place writes: ${announceMs.toFixed(2)})`,
  );

  // 3. The bound.
  const a = new Float32Array(params);
  const b = new Float32Array(params).fill(1);
  const copyMs = await best(() => a.set(b));
  const gbs = (2 * 4 * params) / copyMs / 1e6;
  console.log(
    `copy bandwidth ${gbs.toFixed(1)} GB/s (one thread): 7 × ${((4 * params) / 1e6).toFixed(0)} MB = ${((7 * 4 * params) / gbs / 1e6).toFixed(1)} ms per step at that rate`,
  );
}

void main();
