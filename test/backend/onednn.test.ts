// The 'onednn' backend against the pure-JS cpu backend: every native kernel on randomized
// shapes, then a small conv net's forward pass and one training step's gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerOnednnBackend, onednnInfo } from '../../lib/backend/onednn';
import { loadOnednnAddon, OnednnAddon } from '../../lib/backend/onednn-addon';
import { BIAS_ACT_GRAD } from '../../lib/backend/onednn-kernels';
import { mulberry32 } from '../../lib/rng';

const reg = registerOnednnBackend();
const skip = reg.ok ? false : `oneDNN addon unavailable: ${reg.reason}`;

// Count native calls, so a test fails if a kernel silently fell back to JS.
const calls: Record<string, number> = {};
const loaded = loadOnednnAddon();
if ('addon' in loaded) {
  const addon = loaded.addon as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of [
    'conv2dForward',
    'conv2dBackwardData',
    'conv2dBackwardWeights',
    'matmul',
    'pool',
    'poolBackward',
    'batchNorm',
    'relu',
    'binary',
    'reduce',
    'concat',
    'split',
    'step',
    'pad',
    'slice',
    'unary',
    'biasActGrad',
  ]) {
    const f = addon[name];
    addon[name] = (...a: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return f(...a);
    };
  }
}
function callsOf(name: keyof OnednnAddon): number {
  return calls[name] ?? 0;
}

/** Deterministic uniform(-1, 1) numbers. */
function rng(seed: number): () => number {
  const u = mulberry32(seed);
  return () => u() * 2 - 1;
}
const pick = <T>(r: () => number, xs: readonly T[]): T =>
  xs[Math.floor(((r() + 1) / 2) * xs.length) % xs.length];
const int = (r: () => number, lo: number, hi: number) =>
  lo + (Math.floor(((r() + 1) / 2) * (hi - lo + 1)) % (hi - lo + 1));

type Input = { shape: number[]; data: Float32Array };
type Out = { shape: number[]; values: Float32Array };
function randInput(r: () => number, shape: number[]): Input {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = r();
  return { shape, data };
}

const valuesOf = (t: tf.Tensor): Out => ({
  shape: t.shape,
  values: Float32Array.from(t.dataSync()),
});

/** Runs `f` on both backends with the same inputs and returns the outputs' values. */
async function onBoth(f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], inputs: Input[]) {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const out = f(inputs.map((i) => tf.tensor(i.data.slice(), i.shape)));
      return (Array.isArray(out) ? out : [out]).map(valuesOf);
    });
  };
  const ref = await run('cpu');
  const got = await run('onednn');
  await tf.setBackend('cpu');
  return { ref, got };
}

/** max|got - ref| must be within 1e-4 of max|ref| (and shapes equal). */
function assertClose(res: { ref: Out[]; got: Out[] }, what: string) {
  assert.equal(res.got.length, res.ref.length);
  res.ref.forEach((r, k) => {
    const g = res.got[k];
    assert.deepEqual(g.shape, r.shape, `${what}: output ${k} shape`);
    let scale = 1e-6,
      diff = 0;
    for (let i = 0; i < r.values.length; i++) {
      scale = Math.max(scale, Math.abs(r.values[i]));
      diff = Math.max(diff, Math.abs(g.values[i] - r.values[i]));
    }
    assert.ok(diff <= 1e-4 * scale, `${what}: output ${k} differs by ${diff} (max |ref| ${scale})`);
  });
}

type Pad = 'same' | 'valid' | number;
type Shape4 = [number, number, number, number];
/** Random x, filter and output gradient for a convolution `c` (the output shape from tfjs). */
function convGradInputs(r: () => number, c: { x: Shape4; f: Shape4; stride: number; pad: Pad }) {
  const outShape = tf.tidy(
    () =>
      tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.stride, c.pad).shape,
  );
  return [randInput(r, c.x), randInput(r, c.f), randInput(r, outShape)];
}
function randomConv(r: () => number) {
  const n = pick(r, [1, 2, 3]);
  const kh = int(r, 1, 4),
    kw = pick(r, [kh, int(r, 1, 4)]);
  const stride = pick(r, [1, 1, 2, 3]);
  const dilation = stride === 1 ? pick(r, [1, 1, 2]) : 1; // tfjs: strides or dilations must be 1
  const ekh = (kh - 1) * dilation + 1,
    ekw = (kw - 1) * dilation + 1;
  const h = ekh + int(r, 0, 8),
    w = ekw + int(r, 0, 8);
  // A numeric pad only with square filters: tfjs sizes that output with the filter's height
  // for both axes (then the native kernel rightly hands the odd case to the cpu one).
  const pad: Pad =
    kh === kw ? pick(r, ['same', 'valid', 1] as Pad[]) : pick(r, ['same', 'valid'] as Pad[]);
  const x: Shape4 = [n, h, w, int(r, 1, 6)];
  const f: Shape4 = [kh, kw, x[3], int(r, 1, 7)];
  return { x, f, stride, dilation, pad };
}

test('registers onednn with info', { skip }, () => {
  assert.ok(tf.engine().registryFactory['onednn'], 'backend registered');
  const info = onednnInfo();
  assert.equal(info.available, true);
  assert.ok((info.threads ?? 0) >= 1);
  assert.ok(info.nativeKernels?.includes('Conv2D') && info.nativeKernels.includes('MaxPoolGrad'));
});

test('Conv2D and FusedConv2D match cpu on random shapes', { skip }, async () => {
  const r = rng(1);
  const before = callsOf('conv2dForward');
  const acts = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const;
  for (let t = 0; t < 14; t++) {
    const c = randomConv(r);
    const act = acts[t % acts.length];
    const what = `conv ${JSON.stringify(c)} ${act}`;
    const inputs = [randInput(r, c.x), randInput(r, c.f), randInput(r, [c.f[3]])];
    assertClose(
      await onBoth(
        ([x, f, b]) => [
          tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            strides: c.stride,
            pad: c.pad,
            dilations: c.dilation,
            bias: b,
            activation: act,
            leakyreluAlpha: 0.3,
          }),
        ],
        inputs,
      ),
      what,
    );
  }
  assert.equal(callsOf('conv2dForward') - before, 28, 'every conv ran natively');
});

test(
  'unsupported convs (prelu, numeric pad with a non-square filter) fall back to cpu and match',
  { skip },
  async () => {
    const r = rng(2);
    const before = callsOf('conv2dForward');
    assertClose(
      await onBoth(
        ([x, f, b, a, f2]) => [
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias: b,
            activation: 'prelu',
            preluActivationWeights: a,
          }),
          tf.conv2d(x as tf.Tensor4D, f2 as tf.Tensor4D, 2, 1),
        ],
        [
          randInput(r, [1, 5, 9, 3]),
          randInput(r, [3, 3, 3, 4]),
          randInput(r, [4]),
          randInput(r, [4]),
          randInput(r, [4, 2, 3, 4]),
        ],
      ),
      'fallbacks',
    );
    assert.equal(callsOf('conv2dForward'), before);
  },
);

test(
  'conv gradients (Conv2DBackpropInput/Filter) match cpu on random shapes',
  { skip },
  async () => {
    const r = rng(3);
    const bd = callsOf('conv2dBackwardData'),
      bw = callsOf('conv2dBackwardWeights');
    for (let t = 0; t < 10; t++) {
      const c = { ...randomConv(r), dilation: 1 }; // tfjs has no dilated conv gradients
      const inputs = convGradInputs(r, c);
      assertClose(
        await onBoth(
          ([x, f, dy]) =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)),
            )([x, f]),
          inputs,
        ),
        `conv grads ${JSON.stringify(c)}`,
      );
    }
    assert.equal(callsOf('conv2dBackwardData') - bd, 10);
    assert.equal(callsOf('conv2dBackwardWeights') - bw, 10);
  },
);

// Weight gradients with both channel counts >= 64 (and 1x1 stride-1 ones) run as im2col + matrix
// product in the addon, not oneDNN's convolution; the random shapes above stay below 64 channels.
// Strides, 'same'/'valid'/numeric padding, 1x1 with a stride (patches, not x itself), and one
// large enough (2 x 40 x 40 x 64, 3x3: 3200 patch rows, 1820 a chunk) that its patches come in more than one chunk.
test(
  'conv weight gradients on the im2col + matmul path match cpu (padding, strides, chunks)',
  { skip },
  async () => {
    const r = rng(31);
    const pathCalls = () => onednnInfo().paths?.['conv_bwd_weights:im2col_gemm'] ?? 0;
    const before = pathCalls();
    const cases: { x: Shape4; f: Shape4; stride: number; pad: Pad }[] = [
      { x: [2, 5, 6, 64], f: [3, 3, 64, 64], stride: 1, pad: 'same' },
      { x: [3, 7, 7, 64], f: [3, 3, 64, 72], stride: 2, pad: 'valid' },
      { x: [1, 6, 5, 80], f: [2, 3, 80, 64], stride: 1, pad: 'same' },
      { x: [2, 4, 4, 64], f: [3, 3, 64, 64], stride: 1, pad: 1 },
      { x: [2, 5, 5, 7], f: [1, 1, 7, 5], stride: 1, pad: 'valid' },
      { x: [2, 6, 6, 64], f: [1, 1, 64, 96], stride: 2, pad: 'same' },
      { x: [2, 40, 40, 64], f: [3, 3, 64, 64], stride: 1, pad: 'same' },
    ];
    for (const c of cases) {
      const inputs = convGradInputs(r, c);
      assertClose(
        await onBoth(
          ([x, f, dy]) =>
            tf.grad((b: tf.Tensor) =>
              tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)),
            )(f),
          inputs,
        ),
        `weight grad ${JSON.stringify(c)}`,
      );
    }
    assert.equal(pathCalls() - before, cases.length, 'every case took the im2col + matmul path');
  },
);

test(
  'BatchMatMul and _FusedMatMul match cpu (transposes, batches, broadcast, bias+activation)',
  { skip },
  async () => {
    const r = rng(4);
    const before = callsOf('matmul');
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { a: [5, 7], b: [7, 3], ta: false, tb: false },
      { a: [7, 5], b: [7, 3], ta: true, tb: false },
      { a: [5, 7], b: [3, 7], ta: false, tb: true },
      { a: [7, 5], b: [3, 7], ta: true, tb: true },
      { a: [4, 5, 7], b: [4, 7, 2], ta: false, tb: false },
      { a: [2, 3, 6, 5], b: [2, 3, 4, 6], ta: true, tb: true },
      { a: [1, 5, 7], b: [3, 7, 2], ta: false, tb: false },
      { a: [3, 5, 7], b: [7, 2], ta: false, tb: false },
      { a: [8, 33], b: [33, 17], ta: false, tb: false },
    ];
    for (const c of cases) {
      const n = c.tb ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
      assertClose(
        await onBoth(
          ([a, b, bias]) => [
            tf.matMul(a, b, c.ta, c.tb),
            tf.fused.matMul({ a, b, transposeA: c.ta, transposeB: c.tb, bias, activation: 'relu' }),
          ],
          [randInput(r, c.a), randInput(r, c.b), randInput(r, [n])],
        ),
        `matmul ${JSON.stringify(c)}`,
      );
    }
    assert.equal(callsOf('matmul') - before, 2 * cases.length);
  },
);

test('MaxPool/AvgPool and their gradients match cpu on random shapes', { skip }, async () => {
  const r = rng(5);
  const pf = callsOf('pool'),
    pb = callsOf('poolBackward');
  for (let t = 0; t < 10; t++) {
    const k = int(r, 1, 3),
      s = int(r, 1, 3);
    const x: Shape4 = [pick(r, [1, 2]), k + int(r, 0, 7), k + int(r, 0, 7), int(r, 1, 5)];
    const pad = pick(r, ['same', 'valid'] as const);
    const outShape = tf.tidy(() => tf.maxPool(tf.zeros(x) as tf.Tensor4D, k, s, pad).shape);
    assertClose(
      await onBoth(
        ([xt, dy]) => [
          tf.maxPool(xt as tf.Tensor4D, k, s, pad),
          tf.avgPool(xt as tf.Tensor4D, k, s, pad),
          tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), dy)))(
            xt,
          ),
          tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, k, s, pad), dy)))(
            xt,
          ),
        ],
        [randInput(r, x), randInput(r, outShape)],
      ),
      `pool k${k} s${s} ${pad} ${x}`,
    );
  }
  assert.ok(callsOf('pool') - pf >= 20 && callsOf('poolBackward') - pb >= 20, 'pools ran natively');
});

test(
  'pooling and conv gradients written into recycled output arrays match cpu',
  { skip },
  async () => {
    const r = rng(11);
    const x = randInput(r, [2, 12, 12, 32]); // 32 channels: the jit (not reference) pooling kernels
    assertClose(
      await onBoth(
        ([xt, w]) => {
          const dirty = () => tf.dispose(tf.relu(tf.add(xt, 7))); // returns an x-sized array of 7s to the pool
          dirty();
          const gMax = tf.grad((a: tf.Tensor) =>
            tf.sum(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same')),
          )(xt);
          dirty();
          const gAvg = tf.grad((a: tf.Tensor) =>
            tf.sum(tf.avgPool(a as tf.Tensor4D, 3, 1, 'same')),
          )(xt);
          dirty();
          const gConv = tf.grad((a: tf.Tensor) =>
            tf.sum(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid')),
          )(xt);
          return [gMax, gAvg, gConv];
        },
        [x, randInput(r, [1, 1, 32, 4])],
      ),
      'grads in recycled arrays',
    );
  },
);

test(
  'repeated pooling and conv calls (the thread pick tries 1 thread and all on them) match cpu every time',
  { skip },
  async () => {
    const r = rng(14);
    const x = randInput(r, [4, 16, 16, 32]),
      w = randInput(r, [3, 3, 32, 32]);
    assertClose(
      await onBoth(
        ([xt, wt]) => {
          const outs: tf.Tensor[] = [];
          for (let call = 0; call < 6; call++) {
            outs.push(
              tf.grad((a: tf.Tensor) =>
                tf.sum(tf.square(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'))),
              )(xt),
            );
            outs.push(
              ...tf.grads((a: tf.Tensor, f: tf.Tensor) =>
                tf.sum(
                  tf.avgPool(
                    tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'),
                    3,
                    2,
                    'same',
                  ),
                ),
              )([xt, tf.add(wt, call)]),
            );
          }
          return outs;
        },
        [x, w],
      ),
      'repeated calls',
    );
  },
);

test('FusedBatchNorm matches cpu, with and without scale/offset', { skip }, async () => {
  const r = rng(6);
  const before = callsOf('batchNorm');
  const x = randInput(r, [2, 5, 3, 6]);
  const v = randInput(r, [6]);
  v.data.forEach((e, i) => {
    v.data[i] = Math.abs(e) + 0.1;
  });
  assertClose(
    await onBoth(
      ([xt, m, vt, o, sc]) => [
        tf.batchNorm(xt, m, vt, o, sc, 1e-3),
        tf.batchNorm(xt, m, vt, undefined, undefined, 1.001e-5),
      ],
      [x, randInput(r, [6]), v, randInput(r, [6]), randInput(r, [6])],
    ),
    'batchNorm',
  );
  assert.equal(callsOf('batchNorm') - before, 2);
});

test(
  'elementwise, reductions, concat/split and pad match cpu (broadcasts, axes)',
  { skip },
  async () => {
    const r = rng(9);
    const names = [
      'relu',
      'binary',
      'reduce',
      'concat',
      'split',
      'step',
      'pad',
      'slice',
      'unary',
    ] as const;
    const before = names.map(callsOf);
    const x = randInput(r, [2, 8, 5, 16]); // above the size where kernels go native
    assertClose(
      await onBoth(
        ([a, b, bias, perSample, scalar]) => [
          tf.relu(a),
          tf.step(a, 0.3),
          tf.add(a, b),
          tf.sub(a, b),
          tf.mul(a, b),
          tf.div(a, tf.add(tf.abs(b), 0.5)),
          tf.add(a, bias),
          tf.sub(bias, a),
          tf.mul(perSample, a),
          tf.div(a, scalar),
          tf.sub(scalar, a),
          tf.sum(a, [0, 1, 2]),
          tf.sum(a, [1, 2], true),
          tf.mean(a, [1, 2]),
          tf.mean(a, -1),
          tf.sum(a),
          tf.concat([a, b, tf.relu(a)], 3),
          tf.concat([a, b], 1),
          tf.concat([a, b], 0),
          ...tf.split(a, [3, 5, 8], 3),
          ...tf.split(a, [2, 6], 1),
          tf.pad(
            a,
            [
              [0, 0],
              [1, 2],
              [3, 0],
              [0, 0],
            ],
            0,
          ),
          tf.pad(
            a,
            [
              [1, 0],
              [0, 0],
              [0, 0],
              [2, 2],
            ],
            -1.5,
          ),
          // Boxes (the gradient of a zero padding), and a contiguous slice (a view in the cpu kernel).
          tf.slice(a, [0, 1, 1, 0], [2, 6, 3, 16]),
          tf.slice(a, [1, 2, 0, 3], [1, -1, 5, 9]),
          tf.slice(a, [1], [1]),
          tf.grad((t: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.pad(t, [
                  [0, 0],
                  [1, 1],
                  [1, 1],
                  [0, 0],
                ]),
                2,
              ),
            ),
          )(a),
          tf.sqrt(tf.abs(a)),
          tf.square(a),
          tf.rsqrt(tf.add(tf.abs(a), 0.1)),
          tf.neg(a),
        ],
        [
          x,
          randInput(r, x.shape),
          randInput(r, [16]),
          randInput(r, [2, 1, 1, 16]),
          randInput(r, []),
        ],
      ),
      'elementwise',
    );
    names.forEach((n, i) => assert.ok(callsOf(n) > before[i], `${n} ran natively`));
    // Large enough for the multi-threaded paths (when the machine has cores to spare).
    const big = randInput(r, [2, 64, 64, 16]);
    assertClose(
      await onBoth(
        ([a, bias, m, v]) => [
          tf.relu(a),
          tf.step(a),
          tf.add(a, bias),
          tf.mul(a, a),
          tf.batchNorm(a, m, tf.add(tf.abs(v), 0.1), bias, undefined, 1e-3),
        ],
        [big, randInput(r, [16]), randInput(r, [16]), randInput(r, [16])],
      ),
      'elementwise, large',
    );
  },
);

test('recycled output arrays never change a live or read-out tensor', { skip }, async () => {
  await tf.setBackend('onednn');
  const r = rng(10);
  const a = tf.tensor(randInput(r, [4, 8, 8, 32]).data, [4, 8, 8, 32]);
  const kept = tf.relu(a); // stays alive across the churn below
  const keptCopy = Float32Array.from(await tf.relu(a).data());
  const readOut = tf.relu(tf.neg(a));
  const readValues = readOut.dataSync(); // the backend's own array, now held by us
  const readCopy = Float32Array.from(readValues);
  readOut.dispose();
  const slice = tf.tidy(() => tf.slice(tf.relu(a), [0, 0, 0, 0], [2, 8, 8, 32])); // may alias its parent
  const sliceCopy = Float32Array.from(slice.dataSync());
  for (let i = 0; i < 5; i++)
    tf.tidy(() => tf.sum(tf.mul(tf.relu(tf.add(a, i)), tf.relu(tf.sub(a, i)))).dataSync());
  assert.deepEqual(Array.from(kept.dataSync()), Array.from(keptCopy));
  assert.deepEqual(Array.from(readValues), Array.from(readCopy));
  assert.deepEqual(Array.from(slice.dataSync()), Array.from(sliceCopy));
  tf.dispose([a, kept, slice]);
  await tf.setBackend('cpu');
});

test(
  "bias + relu backward (OnednnBiasActGrad) = tfjs' dy * step(y) bit for bit, and its column sums",
  { skip },
  async () => {
    const r = rng(12);
    const before = callsOf('biasActGrad');
    // Odd channel counts leave a remainder after the vector loop; [32, 16, 16, 64] is above the size
    // where the kernel may split rows over threads, and twice, since the thread pick for a size tries
    // all threads, then one; 2049 rows cross a 64-row block boundary.
    for (const shape of [
      [2, 5, 7, 13],
      [3, 4, 4, 64],
      [2049, 3],
      [32, 16, 16, 64],
      [32, 16, 16, 64],
      [1, 1, 1, 1],
    ]) {
      const dyIn = randInput(r, shape),
        yIn = randInput(r, shape);
      // y as a relu leaves it (zeros, -0 where the input was -0), plus the edge cases a mask must keep:
      // NaN in y gives NaN; y <= 0 gives dy * 0 (NaN for an infinite dy, -0 for a negative one).
      yIn.data.forEach((e, i) => {
        yIn.data[i] = e > 0 ? e : i % 7 === 0 ? -0 : 0;
      });
      if (yIn.data.length > 8) {
        yIn.data[1] = NaN;
        yIn.data[2] = -1;
        yIn.data[3] = Infinity;
        yIn.data[5] = 0;
        dyIn.data[4] = Infinity;
        dyIn.data[5] = -Infinity;
        dyIn.data[6] = NaN;
        dyIn.data[7] = -0.5;
        yIn.data[4] = 0;
        yIn.data[6] = 2;
        yIn.data[7] = 0;
      }
      const C = shape[shape.length - 1];
      const axes = shape.slice(0, -1).map((_, i) => i);
      await tf.setBackend('cpu');
      const [refDx, refDb] = tf.tidy(() => {
        const dx = tf.mul(tf.tensor(dyIn.data, shape), tf.step(tf.tensor(yIn.data, shape)));
        return [dx, tf.sum(dx, axes)].map(valuesOf);
      });
      const refLinear = tf.tidy(() => valuesOf(tf.sum(tf.tensor(dyIn.data, shape), axes)));
      await tf.setBackend('onednn');
      const [dx, db, linear] = tf.tidy(() => {
        // Leave dirty arrays of dx's and db's sizes in the pool: the kernel must write every element.
        tf.dispose([tf.relu(tf.add(tf.tensor(dyIn.data, shape), 7)), tf.add(tf.zeros([C]), 7)]);
        const dy = tf.tensor(dyIn.data, shape),
          y = tf.tensor(yIn.data, shape);
        const withY = tf.engine().runKernel(BIAS_ACT_GRAD, { dy, y }, {}) as tf.Tensor[];
        const alone = tf.engine().runKernel(BIAS_ACT_GRAD, { dy }, {}) as tf.Tensor[];
        return [...withY, ...alone].map(valuesOf);
      });
      await tf.setBackend('cpu');
      assert.deepEqual(dx.shape, shape);
      // Bit for bit, NaN included (Object.is tells -0 from 0 and matches NaN with NaN).
      refDx.values.forEach((e, i) =>
        assert.ok(Object.is(dx.values[i], e), `${shape}: dx[${i}] = ${dx.values[i]}, tfjs ${e}`),
      );
      for (const [got, ref, what] of [
        [db, refDb, 'db'],
        [linear, refLinear, 'db (linear)'],
      ] as const) {
        assert.deepEqual(got.shape, [C]);
        ref.values.forEach((e, c) =>
          assert.ok(
            Number.isNaN(e)
              ? Number.isNaN(got.values[c])
              : e === got.values[c] ||
                  Math.abs(got.values[c] - e) <= 1e-5 * Math.max(1, Math.abs(e)),
            `${shape}: ${what}[${c}] = ${got.values[c]}, tfjs ${e}`,
          ),
        );
      }
    }
    assert.equal(callsOf('biasActGrad') - before, 12, 'every call ran natively');
  },
);

test(
  "weights a step just computed (pool arrays, reordered uncached through one shared buffer) give cpu's results",
  { skip },
  async () => {
    const r = rng(13);
    // Channel counts where oneDNN wants blocked weights, so every call reorders them; two layers of
    // different shapes alternate, as in a network, and their weights change between the calls.
    const x = randInput(r, [2, 6, 6, 32]),
      w1 = randInput(r, [3, 3, 32, 48]),
      w2 = randInput(r, [1, 1, 48, 64]);
    const dy = randInput(r, [2, 6, 6, 64]);
    assertClose(
      await onBoth(
        ([xt, a, b, g]) => {
          const outs: tf.Tensor[] = [];
          for (let step = 0; step < 3; step++) {
            // tf.add(w, step) comes from the native Add: a pool array, which the weight cache never keeps.
            const [wa, wb] = [tf.add(a, step), tf.mul(b, step + 1)];
            const loss = (xi: tf.Tensor, u: tf.Tensor, v: tf.Tensor) =>
              tf.sum(
                tf.mul(
                  tf.conv2d(
                    tf.relu(tf.conv2d(xi as tf.Tensor4D, u as tf.Tensor4D, 1, 'same')),
                    v as tf.Tensor4D,
                    1,
                    'same',
                  ),
                  g,
                ),
              );
            outs.push(...tf.grads(loss)([xt, wa, wb]));
            tf.dispose([wa, wb]); // back to the pool: the next step's weights may land in these arrays
          }
          return outs;
        },
        [x, w1, w2, dy],
      ),
      'convs with fresh weights each step',
    );
  },
);

test('weights rewritten in place are not served from a stale cache', { skip }, async () => {
  await tf.setBackend('onednn');
  const r = rng(7);
  const w = randInput(r, [3, 3, 2, 4]).data;
  const x = tf.tensor(randInput(r, [1, 6, 6, 2]).data, [1, 6, 6, 2]) as tf.Tensor4D;
  const filter = tf.tensor(w, [3, 3, 2, 4]) as tf.Tensor4D; // may share `w` (tfjs does not copy)
  const y1 = tf.conv2d(x, filter, 1, 'same').dataSync().slice();
  const stored = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
  const values = stored.data.get(filter.dataId).values;
  values.forEach((e, i) => {
    values[i] = -2 * e;
  });
  const y2 = tf.conv2d(x, filter, 1, 'same').dataSync();
  y1.forEach((e, i) =>
    assert.ok(Math.abs(y2[i] + 2 * e) <= 1e-4 * (1 + Math.abs(e)), 'conv used the new weights'),
  );
  tf.dispose([x, filter]);
  await tf.setBackend('cpu');
});

/** A small conv net with the layers the bases use (conv+bias+relu, BN, pools, dense). */
function smallNet(): tf.LayersModel {
  const input = tf.input({ shape: [15, 15, 3] });
  let y = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })
    .apply(y) as tf.SymbolicTensor;
  const a = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(y) as tf.SymbolicTensor;
  const b = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: [1, 3],
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  y = tf.layers
    .conv2d({
      filters: 10,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .dense({
      units: 5,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
    })
    .apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

test(
  "a small conv net: forward outputs and one training step's gradients match cpu",
  { skip },
  async () => {
    const r = rng(8);
    const x = randInput(r, [3, 15, 15, 3]);
    const labels = new Float32Array(15);
    [0, 2, 4].forEach((c, i) => {
      labels[i * 5 + c] = 1;
    });
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const model = smallNet();
      const out = tf.tidy(() => {
        const xt = tf.tensor(x.data, x.shape);
        const yt = tf.tensor(labels, [3, 5]);
        const pred = model.predict(xt) as tf.Tensor;
        const { grads } = tf.variableGrads(
          () =>
            tf.losses.softmaxCrossEntropy(
              yt,
              model.apply(xt, { training: true }) as tf.Tensor,
            ) as tf.Scalar,
        );
        const names = Object.keys(grads).sort();
        return [pred, ...names.map((n) => grads[n])].map(valuesOf);
      });
      model.dispose();
      return out;
    };
    const ref = await run('cpu');
    const got = await run('onednn');
    await tf.setBackend('cpu');
    assert.ok(ref.length > 10, 'forward plus every weight gradient');
    assertClose({ ref, got }, 'small net');
  },
);

// setRandomSeed turns on op determinism: every kernel on all threads instead of the timed 1-or-all
// pick, so two seeded trainings give the same weights bit for bit (with the pick they drift apart in
// the last digits whenever the timing picks differently, e.g. on a busy machine).
test(
  'a random seed makes onednn deterministic: two seeded conv trainings end bit for bit equal',
  { skip },
  async () => {
    const { setRandomSeed, clearRandomSeed } = await import('../../lib/seed');
    const addon = (loadOnednnAddon() as { addon: OnednnAddon }).addon;
    clearRandomSeed();
    assert.equal(addon.info().deterministic, false);
    await tf.setBackend('onednn');
    const train = () => {
      setRandomSeed(7);
      const m = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [24, 24, 8],
            filters: 32,
            kernelSize: 3,
            activation: 'relu',
          }),
          tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: 5 }),
        ],
      });
      const opt = tf.train.adam(1e-2);
      const x = tf.randomNormal([64, 24, 24, 8], 0, 1, 'float32', 3);
      const y = tf.oneHot(
        tf.tensor1d(
          Array.from({ length: 64 }, (_, i) => i % 5),
          'int32',
        ),
        5,
      );
      for (let s = 0; s < 6; s++)
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, m.apply(x) as tf.Tensor) as tf.Scalar);
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      tf.dispose([x, y]);
      m.dispose();
      return w;
    };
    try {
      const a = train();
      assert.equal(addon.info().deterministic, true, 'setRandomSeed turns determinism on');
      const b = train();
      assert.deepEqual(a, b);
    } finally {
      clearRandomSeed();
      await tf.setBackend('cpu');
    }
    assert.equal(addon.info().deterministic, false, 'clearRandomSeed turns it off');
    // withRandomSeed (the pretext pretraining) is deterministic for its duration only.
    const { withRandomSeed } = await import('../../lib/seed');
    const inside = await withRandomSeed(1, async () => addon.info().deterministic);
    assert.equal(inside, true);
    assert.equal(addon.info().deterministic, false, 'restored after withRandomSeed');
  },
);

// The native Adam loop (one call per step for all variables, split over threads by element, AVX2
// where the CPU has it) gives exactly what the JavaScript loop gives on cpu. Sizes are odd and
// cross the thread split and the 4-wide loop's tail; some gradients are 0 (√v ≈ 0, where ε matters)
// and some large.
test(
  'Adam on onednn (native loop) equals Adam on cpu (JavaScript loop) bit for bit',
  { skip },
  async () => {
    const { FusedAdamOptimizer } = await import('../../lib/train/adam');
    const r = mulberry32(11);
    const sizes = [150_001, 5, 64, 3, 70_003]; // above the size where the loop is split over threads
    const starts = sizes.map((n) => Float32Array.from({ length: n }, () => r() * 2 - 1));
    const grads = [0, 1, 2].map((s) =>
      sizes.map((n) =>
        Float32Array.from({ length: n }, (_, j) =>
          j % 97 === s ? 0 : j % 89 === 0 ? (r() - 0.5) * 100 : (r() - 0.5) * 0.1,
        ),
      ),
    );
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const opt = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
      // Made inside tidy, so the variable alone holds its data (the in-place path from the first step).
      // (A copy of start: tfjs keeps the array it is given, and Adam updates in place.)
      const ws = starts.map((start, k) =>
        tf.tidy(() => tf.variable(tf.tensor1d(start.slice()), true, `adam_native_${backend}_${k}`)),
      );
      for (const step of grads)
        opt.applyGradients(ws.map((w, k) => ({ name: w.name, tensor: tf.tensor1d(step[k]) })));
      const out = ws.map((w) => Array.from(w.dataSync()));
      ws.forEach((w) => w.dispose());
      opt.dispose();
      return out;
    };
    const addon = (loadOnednnAddon() as { addon: OnednnAddon }).addon;
    const native = addon.adamSteps;
    let calls = 0;
    addon.adamSteps = (...args: Parameters<OnednnAddon['adamSteps']>) => {
      calls++;
      native.apply(addon, args);
    };
    try {
      const onCpu = await run('cpu');
      assert.equal(calls, 0, 'cpu runs the JavaScript loop');
      const onOnednn = await run('onednn');
      assert.equal(calls, 3, 'onednn runs the native loop, one call per step for every variable');
      onCpu.forEach((w, k) =>
        assert.notDeepEqual(w.slice(0, 3), Array.from(starts[k].slice(0, 3)), 'the weights moved'),
      );
      onOnednn.forEach((w, k) => assert.deepEqual(w, onCpu[k], `variable ${k} (${sizes[k]})`));
    } finally {
      addon.adamSteps = native;
      await tf.setBackend('cpu');
    }
  },
);

// The native step writes every variable in place and only then announces the writes: each one
// must still reach the caches keyed by a tensor's data (here the value fingerprint, which a missed
// announcement leaves at the old weights' hash: the stale-cache bug of the best-weights issue).
test(
  'Adam on onednn announces every in-place write: fingerprints follow the new weights',
  { skip },
  async () => {
    const { FusedAdamOptimizer } = await import('../../lib/train/adam');
    const { valueHash } = await import('../../lib/models/value-hash');
    await tf.setBackend('onednn');
    try {
      const opt = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
      const ws = [70_001, 9].map((n, k) =>
        tf.tidy(() => tf.variable(tf.randomNormal([n]), true, `adam_announce_${k}`)),
      );
      const before = ws.map((w) => valueHash(w));
      const dataIds = ws.map((w) => w.dataId);
      opt.applyGradients(ws.map((w) => ({ name: w.name, tensor: tf.onesLike(w) })));
      ws.forEach((w, k) => {
        assert.equal(w.dataId, dataIds[k], 'updated in place');
        assert.notEqual(valueHash(w), before[k], `variable ${k}: the fingerprint was dropped`);
        const fresh = tf.tensor(w.dataSync().slice(), w.shape); // new data: hashed from scratch
        assert.equal(valueHash(w), valueHash(fresh));
        fresh.dispose();
      });
      ws.forEach((w) => w.dispose());
      opt.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  },
);
