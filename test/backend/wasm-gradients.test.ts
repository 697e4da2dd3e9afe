// The wasm gradient kernels must give the cpu backend's answers (to ~1e-5 relative) on shapes that
// exercise padding modes, strides, rectangular kernels, odd sizes and batch > 1, and a small
// network's training step on wasm must match the same step on cpu.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmGradientKernels,
  WASM_GRADIENT_KERNELS,
} from '../../lib/backend/wasm-gradients';
import { mulberry32 } from '../../lib/rng';

type Shape4 = [number, number, number, number];
type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];
type Inputs = Record<string, { values: Float32Array; shape: number[] }>;

const rand = mulberry32(20240611); // fixed seed: a failure reproduces
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
function values(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
}

/** Runs one kernel on a backend and returns its output values. */
async function runOn(
  backend: string,
  kernel: string,
  inputs: Inputs,
  attrs: object,
): Promise<Float32Array> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.values, v.shape);
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const data = (await out.data()) as Float32Array;
  out.dispose();
  Object.values(tensors).forEach((t) => t.dispose());
  return data;
}

/** max |a - b| / max |a|: relative to the largest reference value, robust to tiny entries. */
function relErr(ref: Float32Array, got: Float32Array): number {
  assert.equal(got.length, ref.length, 'output sizes differ');
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ref[i]! - got[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / scale;
}

async function assertMatchesCpu(
  kernel: string,
  inputs: Inputs,
  attrs: object,
  label: string,
): Promise<void> {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  const got = await runOn('wasm', kernel, inputs, attrs);
  const err = relErr(ref, got);
  assert.ok(err < 1e-5, `${kernel} ${label}: relative error ${err.toExponential(2)} vs cpu`);
}

interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  s: [number, number];
  pad: Pad;
}

/** Fixed edge cases plus randomized ones (odd sizes, rectangular kernels, strides 1/2, batch 1/3). */
function convCases(): ConvCase[] {
  const fixed: ConvCase[] = [
    { n: 1, h: 7, w: 9, ci: 3, co: 4, kh: 3, kw: 2, s: [1, 1], pad: 'same' },
    { n: 3, h: 8, w: 7, ci: 2, co: 5, kh: 3, kw: 3, s: [2, 2], pad: 'same' },
    { n: 3, h: 9, w: 8, ci: 2, co: 5, kh: 2, kw: 3, s: [2, 1], pad: 'valid' },
    { n: 3, h: 10, w: 10, ci: 4, co: 3, kh: 1, kw: 1, s: [2, 2], pad: 'valid' }, // ResNet shortcut
    { n: 1, h: 11, w: 13, ci: 3, co: 2, kh: 7, kw: 7, s: [2, 2], pad: 'same' }, // ResNet stem
    {
      n: 3,
      h: 10,
      w: 11,
      ci: 4,
      co: 3,
      kh: 3,
      kw: 3,
      s: [1, 1],
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    },
    { n: 1, h: 10, w: 11, ci: 4, co: 3, kh: 3, kw: 3, s: [2, 2], pad: 2 },
    { n: 1, h: 5, w: 5, ci: 2, co: 2, kh: 5, kw: 5, s: [1, 1], pad: 'valid' }, // 1x1 output
  ];
  const random: ConvCase[] = [];
  for (let i = 0; i < 8; i++) {
    const kh = int(1, 4),
      kw = int(1, 4);
    random.push({
      n: rand() < 0.5 ? 1 : 3,
      h: int(kh + 1, 12),
      w: int(kw + 1, 12),
      ci: int(1, 5),
      co: int(1, 5),
      kh,
      kw,
      s: [int(1, 2), int(1, 2)],
      pad: rand() < 0.5 ? 'same' : 'valid',
    });
  }
  return [...fixed, ...random];
}
const label = (c: object): string => JSON.stringify(c);

before(async () => {
  await tf.setBackend('wasm');
  registerWasmGradientKernels();
  registerWasmGradientKernels(); // idempotent
});

describe('registerWasmGradientKernels', () => {
  test('registers every kernel for wasm, including the ones wasm 4.22 lacks', () => {
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'MaxPoolGrad',
      'UnsortedSegmentSum',
    ]) {
      assert.ok(WASM_GRADIENT_KERNELS.includes(name), `${name} is in WASM_GRADIENT_KERNELS`);
      assert.ok(tf.getKernel(name, 'wasm') !== undefined, `${name} is registered for wasm`);
    }
  });
});

describe('Conv2D gradients on wasm match cpu', () => {
  for (const c of convCases()) {
    test(`Conv2DBackpropFilter + Conv2DBackpropInput ${label(c)}`, async () => {
      const xShape: Shape4 = [c.n, c.h, c.w, c.ci];
      const fShape: Shape4 = [c.kh, c.kw, c.ci, c.co];
      const outShape = tf.backend_util.computeConv2DInfo(xShape, fShape, c.s, 1, c.pad).outShape;
      const x = { values: values(xShape), shape: xShape };
      const dy = { values: values(outShape), shape: outShape };
      const filter = { values: values(fShape), shape: fShape };
      const common = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
      await assertMatchesCpu(
        'Conv2DBackpropFilter',
        { x, dy },
        { ...common, filterShape: fShape },
        label(c),
      );
      await assertMatchesCpu(
        'Conv2DBackpropInput',
        { dy, filter },
        { ...common, inputShape: xShape },
        label(c),
      );
    });
  }

  test('channels-first data is refused with a message naming the file', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 5, 5]);
    assert.throws(
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] },
          ),
      /wasm-gradients\.ts.*NHWC/,
    );
    tf.dispose([x, dy]);
  });

  test('plain TensorInfo inputs (as other kernels pass them) stay alive and nothing leaks', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(values([2, 6, 6, 3]), [2, 6, 6, 3]);
    const dy = tf.tensor(values([2, 3, 3, 4]), [2, 3, 3, 4]);
    const before = tf.memory().numTensors;
    const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm')!;
    const info = (t: tf.Tensor): tf.TensorInfo => ({
      dataId: t.dataId,
      shape: t.shape,
      dtype: t.dtype,
    });
    const out = kernel.kernelFunc({
      inputs: { x: info(x), dy: info(dy) },
      backend: tf.backend(),
      attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
    }) as tf.Tensor;
    assert.deepEqual(out.shape, [3, 3, 3, 4]);
    out.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
    assert.equal(x.sum().arraySync() !== undefined, true); // x's data is still readable
    assert.equal((await dy.data()).length, 2 * 3 * 3 * 4);
    tf.dispose([x, dy]);
  });
});

test('gradients through the ops leave no tensors behind', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor4d(values([2, 9, 9, 3]), [2, 9, 9, 3]);
  const w = tf.tensor4d(values([3, 3, 3, 4]), [3, 3, 3, 4]);
  const dw = tf.tensor4d(values([3, 3, 3, 2]), [3, 3, 3, 2]);
  const before = tf.memory().numTensors;
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.add(
      tf.maxPool(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), 2, 2, 'valid').sum(),
      tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 2, 'same').sum(),
    ),
  )([x, w, dw]);
  assert.deepEqual(
    grads.map((g) => g.shape),
    [x.shape, w.shape, dw.shape],
  );
  tf.dispose(grads);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w, dw]);
});

describe('depthwise gradients on wasm match cpu', () => {
  const cases = [
    {
      n: 1,
      h: 7,
      w: 9,
      c: 3,
      m: 1,
      kh: 3,
      kw: 2,
      s: [1, 1] as [number, number],
      pad: 'same' as Pad,
    },
    {
      n: 3,
      h: 8,
      w: 7,
      c: 2,
      m: 2,
      kh: 3,
      kw: 3,
      s: [2, 2] as [number, number],
      pad: 'same' as Pad,
    },
    {
      n: 3,
      h: 9,
      w: 8,
      c: 2,
      m: 3,
      kh: 2,
      kw: 3,
      s: [2, 1] as [number, number],
      pad: 'valid' as Pad,
    },
    {
      n: 1,
      h: 10,
      w: 11,
      c: 4,
      m: 1,
      kh: 3,
      kw: 3,
      s: [2, 2] as [number, number],
      pad: [
        [0, 0],
        [1, 0],
        [2, 1],
        [0, 0],
      ] as Pad,
    },
  ];
  for (const c of cases) {
    test(`DepthwiseConv2dNativeBackpropFilter/Input ${label(c)}`, async () => {
      const xShape: Shape4 = [c.n, c.h, c.w, c.c];
      const fShape: Shape4 = [c.kh, c.kw, c.c, c.m];
      const outShape = tf.backend_util.computeConv2DInfo(
        xShape,
        fShape,
        c.s,
        1,
        c.pad,
        undefined,
        true,
      ).outShape;
      const x = { values: values(xShape), shape: xShape };
      const dy = { values: values(outShape), shape: outShape };
      const filter = { values: values(fShape), shape: fShape };
      const common = { strides: c.s, dilations: 1, pad: c.pad };
      await assertMatchesCpu(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { ...common, filterShape: fShape },
        label(c),
      );
      await assertMatchesCpu(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter },
        { ...common, inputShape: xShape },
        label(c),
      );
    });
  }

  test('dilations > 1 match cpu run on the equivalent zero-dilated filter', async () => {
    // tfjs-cpu's depthwise backprops ignore `dilations`, so compare against a dilation-1 problem
    // whose filter has zeros between the taps: same forward function, so the same gradients.
    const [n, h, w, c, m, kh, kw, d] = [2, 10, 11, 3, 2, 3, 2, [2, 3] as [number, number]];
    const ekh = (kh - 1) * d[0] + 1,
      ekw = (kw - 1) * d[1] + 1;
    for (const pad of ['same', 'valid'] as const) {
      const xShape: Shape4 = [n, h, w, c];
      const outShape = tf.backend_util.computeConv2DInfo(
        xShape,
        [kh, kw, c, m],
        1,
        d,
        pad,
        undefined,
        true,
      ).outShape;
      const xv = values(xShape),
        dyv = values(outShape),
        fv = values([kh, kw, c, m]);
      const inputs = { x: { values: xv, shape: xShape }, dy: { values: dyv, shape: outShape } };
      const dwWasm = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', inputs, {
        strides: 1,
        dilations: d,
        pad,
        filterShape: [kh, kw, c, m],
      });
      const dwDilated = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', inputs, {
        strides: 1,
        dilations: 1,
        pad,
        filterShape: [ekh, ekw, c, m],
      });
      const dwRef = (await tf
        .tidy(() =>
          tf
            .tensor4d(dwDilated, [ekh, ekw, c, m])
            .stridedSlice([0, 0, 0, 0], [ekh, ekw, c, m], [d[0], d[1], 1, 1]),
        )
        .data()) as Float32Array;
      assert.ok(relErr(dwRef, dwWasm) < 1e-5, `filter grad, dilations ${d}, ${pad}`);

      const fDilated = Array.from(
        tf
          .tidy(() => {
            const f6 = tf.tensor(fv, [kh, 1, kw, 1, c, m]).pad([
              [0, 0],
              [0, d[0] - 1],
              [0, 0],
              [0, d[1] - 1],
              [0, 0],
              [0, 0],
            ]);
            return f6.reshape([kh * d[0], kw * d[1], c, m]).slice([0, 0, 0, 0], [ekh, ekw, c, m]);
          })
          .dataSync(),
      );
      const dxWasm = await runOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropInput',
        { dy: inputs.dy, filter: { values: fv, shape: [kh, kw, c, m] } },
        { strides: 1, dilations: d, pad, inputShape: xShape },
      );
      const dxRef = await runOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropInput',
        { dy: inputs.dy, filter: { values: Float32Array.from(fDilated), shape: [ekh, ekw, c, m] } },
        { strides: 1, dilations: 1, pad, inputShape: xShape },
      );
      assert.ok(relErr(dxRef, dxWasm) < 1e-5, `input grad, dilations ${d}, ${pad}`);
    }
  });
});

describe('pooling gradients on wasm match cpu', () => {
  const pools = [
    { k: [3, 3], s: [1, 1], pad: 'same' },
    { k: [2, 2], s: [2, 2], pad: 'valid' },
    { k: [3, 3], s: [2, 2], pad: 'same' },
    { k: [3, 2], s: [2, 1], pad: 'valid' },
    { k: [3, 3], s: [2, 2], pad: 'valid' },
  ];
  for (const p of pools) {
    test(`MaxPoolGrad and AvgPoolGrad ${label(p)}, negative values and ties`, async () => {
      const shape: Shape4 = [3, 9, 8, 2];
      const xv = values(shape);
      // Ties (ReLU zeros, repeated values) must send the gradient to the first maximum like TF/cpu.
      for (let i = 0; i < xv.length; i += 5) xv[i] = 0;
      for (let i = 1; i < xv.length; i += 7) xv[i] = 0.5;
      const info = tf.backend_util.computePool2DInfo(
        shape,
        p.k as [number, number],
        p.s as [number, number],
        1,
        p.pad as Pad,
      );
      const y = await runOn(
        'cpu',
        'MaxPool',
        { x: { values: xv, shape } },
        { filterSize: p.k, strides: p.s, pad: p.pad },
      );
      const dy = { values: values(info.outShape), shape: info.outShape };
      const attrs = { filterSize: p.k, strides: p.s, pad: p.pad };
      await assertMatchesCpu(
        'MaxPoolGrad',
        { dy, input: { values: xv, shape }, output: { values: y, shape: info.outShape } },
        attrs,
        label(p),
      );
      await assertMatchesCpu('AvgPoolGrad', { dy, input: { values: xv, shape } }, attrs, label(p));
    });
  }
});

test('UnsortedSegmentSum (the gradient of tf.gather) on wasm matches cpu', async () => {
  const x = { values: values([7, 3]), shape: [7, 3] };
  const segmentIds = Int32Array.from([2, 0, 2, 1, 4, 0, 2]);
  const run = async (backend: string): Promise<Float32Array> => {
    await tf.setBackend(backend);
    const out = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor(x.values, x.shape), tf.tensor1d(segmentIds, 'int32'), 5),
    );
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
  assert.ok(relErr(await run('cpu'), await run('wasm')) < 1e-6);
});

// ---------------------------------------------------------------------------------------------
// Whole training steps

const L = tf.layers;
type Builder = () => tf.LayersModel;

function vggLike(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    L.conv2d({
      inputShape: [12, 12, 3],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
    }),
  );
  m.add(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(L.maxPooling2d({ poolSize: 2, strides: 2 }));
  m.add(L.conv2d({ filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu' }));
  m.add(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }));
  m.add(L.flatten());
  m.add(L.dense({ units: 5, activation: 'softmax' }));
  return m;
}

function resnetLike(): tf.LayersModel {
  const apply = (
    layer: tf.layers.Layer,
    x: tf.SymbolicTensor | tf.SymbolicTensor[],
  ): tf.SymbolicTensor => layer.apply(x) as tf.SymbolicTensor;
  const inp = tf.input({ shape: [13, 11, 3] });
  let x = apply(
    L.conv2d({ filters: 4, kernelSize: [3, 5], strides: 2, padding: 'same', useBias: false }),
    inp,
  );
  x = apply(L.batchNormalization({ epsilon: 1.001e-5 }), x);
  x = apply(L.activation({ activation: 'relu' }), x);
  const shortcut = apply(L.conv2d({ filters: 8, kernelSize: 1, strides: 2 }), x);
  let y = apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }), x);
  y = apply(L.batchNormalization({}), y);
  let z = apply(L.activation({ activation: 'relu' }), apply(L.add(), [y, shortcut]));
  z = apply(L.conv2d({ filters: 4, kernelSize: 3 }), apply(L.zeroPadding2d({ padding: 1 }), z));
  const out = apply(
    L.dense({ units: 5, activation: 'softmax' }),
    apply(L.globalAveragePooling2d({}), z),
  );
  return tf.model({ inputs: inp, outputs: out });
}

function inceptionLike(): tf.LayersModel {
  const apply = (
    layer: tf.layers.Layer,
    x: tf.SymbolicTensor | tf.SymbolicTensor[],
  ): tf.SymbolicTensor => layer.apply(x) as tf.SymbolicTensor;
  const inp = tf.input({ shape: [10, 10, 3] });
  const a = apply(L.conv2d({ filters: 3, kernelSize: 1, activation: 'relu' }), inp);
  const b = apply(
    L.conv2d({ filters: 3, kernelSize: [3, 1], padding: 'same' }),
    apply(L.conv2d({ filters: 3, kernelSize: [1, 3], padding: 'same' }), inp),
  );
  const c = apply(
    L.conv2d({ filters: 2, kernelSize: 1 }),
    apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), inp),
  );
  let m = apply(
    L.batchNormalization({ epsilon: 1e-3 }),
    apply(L.concatenate({ axis: -1 }), [a, b, c]),
  );
  m = apply(L.averagePooling2d({ poolSize: 3, strides: 2 }), m);
  const d = apply(
    L.separableConv2d({ filters: 4, kernelSize: 3 }),
    apply(L.maxPooling2d({ poolSize: 3, strides: 2 }), inp),
  );
  const e = apply(
    L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
    inp,
  );
  const g = apply(L.concatenate({}), [
    apply(L.globalAveragePooling2d({}), m),
    apply(L.globalMaxPooling2d({}), d),
    apply(L.flatten(), e),
  ]);
  return tf.model({ inputs: inp, outputs: apply(L.dense({ units: 5, activation: 'softmax' }), g) });
}

interface StepResult {
  loss: number;
  before: Float32Array[];
  after: Float32Array[];
}

/** One SGD step of `model.fit` on `backend`, starting from `weights` when given. */
async function fitOneStep(
  backend: string,
  build: Builder,
  x: Float32Array,
  weights?: Float32Array[],
): Promise<StepResult> {
  await tf.setBackend(backend);
  const model = build();
  if (weights) model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i]!, w.shape)));
  const before = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const batch = 3;
  const xs = tf.tensor(x, [batch, ...(model.inputs[0]!.shape.slice(1) as number[])]);
  const ys = tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 5);
  const h = await model.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
  const after = model.getWeights().map((w) => w.dataSync() as Float32Array);
  tf.dispose([xs, ys]);
  model.dispose();
  return { loss: h.history.loss![0] as number, before, after };
}

describe('one training step on wasm matches cpu', () => {
  const nets: [string, Builder, number[]][] = [
    ['VGG-like (conv, max pool)', vggLike, [12, 12, 3]],
    ['ResNet-like (strided conv, BatchNorm, Add)', resnetLike, [13, 11, 3]],
    [
      'Inception-like (concat, 3x3/1 same avg pool, separable + depthwise)',
      inceptionLike,
      [10, 10, 3],
    ],
  ];
  for (const [name, build, inShape] of nets) {
    test(name, async () => {
      const x = values([3, ...inShape]).map((v) => v + 0.5);
      const cpu = await fitOneStep('cpu', build, x);
      const wasm = await fitOneStep('wasm', build, x, cpu.before);
      assert.ok(
        Math.abs(cpu.loss - wasm.loss) <= 1e-5 * Math.abs(cpu.loss),
        `loss ${wasm.loss} vs cpu ${cpu.loss}`,
      );
      // Compare the updates (after - before): they are what the gradient kernels produce. Scale by
      // the largest update in the model: a conv bias followed by BatchNorm has a zero gradient, so
      // its "update" is float noise on both backends.
      const updates = (r: StepResult): Float32Array[] =>
        r.after.map((w, i) => w.map((v, j) => v - cpu.before[i]![j]!));
      const ref = updates(cpu),
        got = updates(wasm);
      const scale = Math.max(...ref.map((u) => u.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      ref.forEach((u, i) => {
        const diff = u.reduce((m, v, j) => Math.max(m, Math.abs(v - got[i]![j]!)), 0);
        assert.ok(
          diff / scale < 1e-5,
          `weight ${i}: update differs from cpu by ${(diff / scale).toExponential(2)} of the largest update`,
        );
      });
    });
  }
});
