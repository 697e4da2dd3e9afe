// tfjs kernels that run on oneDNN. Each reads the cpu backend's Float32Arrays directly,
// writes into a fresh Float32Array that becomes the output tensor, and hands any case it
// does not cover (NCHW, prelu, odd broadcasting, non-float32) to the cpu kernel it replaces.
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { ONEDNN_ACTIVATIONS, OnednnAddon, weightCacheFor } from './onednn-addon';
import type { OnednnOutputPool } from './onednn-pool';

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type KernelArgs = {
  inputs: Record<string, TensorInfo | undefined>;
  backend: MathBackendCPU;
  attrs?: Attrs;
};
/** Runs the cpu kernel this one replaces, for the cases the native code does not cover. */
type Fallback = () => TensorInfo | TensorInfo[];
type Impl = (args: KernelArgs, fallback: Fallback) => TensorInfo | TensorInfo[];
type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/** Float32 contents of a tensor in the cpu data store, or null when it is not plain float32. */
function f32(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/** An input tensor's shape and its float32 contents in the cpu data store. */
type Float32Input = { shape: number[]; values: Float32Array };

/**
 * The named inputs with their contents, or null when one is absent or not plain float32 (the
 * kernel then hands the case to the cpu kernel).
 */
function float32Inputs<K extends string>(
  backend: MathBackendCPU,
  inputs: KernelArgs['inputs'],
  names: readonly K[],
): Record<K, Float32Input> | null {
  const found = {} as Record<K, Float32Input>;
  for (const name of names) {
    const t = inputs[name];
    const values = f32(backend, t);
    if (!t || !values) return null;
    found[name] = { shape: t.shape, values };
  }
  return found;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Bottom/right padding oneDNN accepts for this output size. TF may pad one more row than the
 * last window reads ('same' with stride > 1) or round up (dimRoundingMode 'ceil'); reading
 * extra zeros changes nothing, so any padding that yields the same output size is equivalent.
 */
function endPad(
  inSize: number,
  outSize: number,
  stride: number,
  effFilter: number,
  start: number,
  end: number,
): number {
  if (Math.floor((inSize - effFilter + start + end) / stride) + 1 === outSize) return end;
  return (outSize - 1) * stride + effFilter - inSize - start;
}

/** [PB, PR]: oneDNN's bottom and right padding for a window of this (effective) size. */
function endPads(c: Conv2DInfo, windowHeight: number, windowWidth: number): [number, number] {
  const p = c.padInfo;
  return [
    endPad(c.inHeight, c.outHeight, c.strideHeight, windowHeight, p.top, p.bottom),
    endPad(c.inWidth, c.outWidth, c.strideWidth, windowWidth, p.left, p.right),
  ];
}

/** [N, IH, IW, C, KH, KW]: the input and window sizes both parameter lists start with. */
function inputAndWindow(c: Conv2DInfo): number[] {
  return [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth];
}

/** [OH, OW, SH, SW]. */
function outputAndStrides(c: Conv2DInfo): number[] {
  return [c.outHeight, c.outWidth, c.strideHeight, c.strideWidth];
}

/** [N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL, PB, PR], or null if unsupported. */
function convParams(c: Conv2DInfo): Int32Array | null {
  if (c.dataFormat !== 'channelsLast') return null;
  const p = c.padInfo;
  const [pb, pr] = endPads(c, c.effectiveFilterHeight, c.effectiveFilterWidth);
  if (pb < 0 || pr < 0 || p.top < 0 || p.left < 0) return null;
  const dilations = [c.dilationHeight, c.dilationWidth];
  const pads = [p.top, p.left, pb, pr];
  return Int32Array.from([
    ...inputAndWindow(c),
    c.outChannels,
    ...outputAndStrides(c),
    ...dilations,
    ...pads,
  ]);
}

/** [N, IH, IW, C, KH, KW, OH, OW, SH, SW, PT, PL, PB, PR], or null if unsupported. */
function poolParams(c: Conv2DInfo): Int32Array | null {
  if (c.dataFormat !== 'channelsLast' || c.dilationHeight !== 1 || c.dilationWidth !== 1)
    return null;
  const p = c.padInfo;
  const [pb, pr] = endPads(c, c.filterHeight, c.filterWidth);
  // oneDNN wants every window to touch the input: padding smaller than the window.
  const [kh, kw] = [c.filterHeight, c.filterWidth];
  if (pb < 0 || pr < 0 || p.top >= kh || p.left >= kw || pb >= kh || pr >= kw) return null;
  return Int32Array.from([...inputAndWindow(c), ...outputAndStrides(c), p.top, p.left, pb, pr]);
}

function convInfoOf(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
  dilations: unknown = 1,
): Conv2DInfo {
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides as [number, number],
    dilations as [number, number],
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
}

function poolInfoOf(xShape: number[], attrs: Attrs): Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as Shape4,
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
}

/** [N, H, W, C, hasScale, hasShift] for a channels-last tensor of any rank >= 2. */
function bnormParams(shape: number[], hasScale: boolean, hasShift: boolean): Int32Array {
  const C = shape[shape.length - 1];
  const [N, H, W] = shape.length === 4 ? shape : [size(shape.slice(0, -1)), 1, 1];
  return Int32Array.from([N, H, W, C, hasScale ? 1 : 0, hasShift ? 1 : 0]);
}

/** Activation code for a fused kernel, or null when oneDNN cannot fuse it (prelu). */
function activationCode(attrs: Attrs): number | null {
  const name = (attrs.activation as string | undefined) ?? 'linear';
  return name in ONEDNN_ACTIVATIONS ? ONEDNN_ACTIVATIONS[name] : null;
}

/** LeakyRelu's alpha for a fused kernel (tfjs' default 0.2). */
function leakyAlpha(attrs: Attrs): number {
  return (attrs.leakyreluAlpha as number | undefined) ?? 0.2;
}

/**
 * A per-channel vector of length n (a bias; a batch norm's scale, offset, mean, variance): null
 * when absent, undefined when it is not float32 with n values on its last axis (cpu kernel then).
 */
function channelVector(
  backend: MathBackendCPU,
  t: TensorInfo | undefined,
  n: number,
): Float32Array | null | undefined {
  if (!t) return null;
  const v = f32(backend, t);
  return v && v.length === n && t.shape[t.shape.length - 1] === n ? v : undefined;
}

/** A training batch norm's channel count, optional scale and offset, and params; null if unsupported. */
function bnormOperands(
  backend: MathBackendCPU,
  inputs: KernelArgs['inputs'],
  x: Float32Input | undefined,
) {
  if (!x || x.shape.length < 2) return null;
  const C = x.shape[x.shape.length - 1];
  const scale = channelVector(backend, inputs.scale, C),
    offset = channelVector(backend, inputs.offset, C);
  if (scale === undefined || offset === undefined) return null;
  return { C, scale, offset, params: bnormParams(x.shape, !!scale, !!offset) };
}

/**
 * How `small` broadcasts over `big` as [outer, mid, inner] (small = [outer, inner]): equal shapes,
 * a trailing vector (bias [C] over NHWC), a scalar, or per-sample [N, 1, 1, C]. Null otherwise.
 */
function broadcastPlan(
  big: number[],
  small: number[],
): { outer: number; mid: number; inner: number } | null {
  if (small.length > big.length) return null;
  const s = [...new Array<number>(big.length - small.length).fill(1), ...small];
  const r = big.length;
  let p = 0;
  while (p < r && s[p] === big[p]) p++;
  if (p === r) return { outer: 1, mid: 1, inner: size(big) };
  let e = r;
  while (e > p && s[e - 1] === big[e - 1]) e--;
  for (let k = p; k < e; k++) if (s[k] !== 1) return null;
  return { outer: size(big.slice(0, p)), mid: size(big.slice(p, e)), inner: size(big.slice(e)) };
}

/** Sorted axes that form one contiguous block, as [outer, mid, inner] of `shape`; null otherwise. */
function axisBlock(
  shape: number[],
  axes: number[],
): { outer: number; mid: number; inner: number } | null {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((a, i) => i > 0 && a !== sorted[i - 1] + 1)) return null;
  const first = sorted[0],
    last = sorted[sorted.length - 1];
  return {
    outer: size(shape.slice(0, first)),
    mid: size(shape.slice(first, last + 1)),
    inner: size(shape.slice(last + 1)),
  };
}

/**
 * A kernel of our own (not a tfjs kernel name), registered on 'onednn' only: the backward of bias +
 * relu (or linear) in one pass, inputs { dy, y? } -> [dx, db] with y, [db] without. lib/train/fused-conv
 * uses it when the backend has it and tfjs ops (dy * step(y), sum) otherwise.
 */
export const BIAS_ACT_GRAD = 'OnednnBiasActGrad';

/**
 * Batch norm with batch statistics (a trainable layer in a training step), our own kernels on 'onednn':
 * BN_TRAIN { x, scale?, offset? } attrs { epsilon } -> [y, mean, variance (biased)];
 * BN_TRAIN_GRAD { x, dy, mean, variance, scale?, offset? } attrs { epsilon } -> [dx, dscale, doffset]
 * (zeros for an absent scale or offset). Channels last; lib/models/batchnorm checks for them.
 */
export const BN_TRAIN = 'OnednnBatchNormTrain';
export const BN_TRAIN_GRAD = 'OnednnBatchNormTrainGrad';

const MIN_NATIVE = 1024; // below this many elements the JS kernels are as fast as a native call

/** The kernels, given the addon and each backend instance's output pool. */
export function onednnKernels(
  addon: OnednnAddon,
  poolOf: (b: MathBackendCPU) => OnednnOutputPool,
): Record<string, Impl> {
  const out = (backend: MathBackendCPU, shape: number[], values: Float32Array) =>
    backend.makeTensorInfo(shape, 'float32', values);
  const alloc = (backend: MathBackendCPU, n: number) => poolOf(backend).take(n);
  // For the element-wise kernels below, whose native loops write every element: no memset first
  // (a whole extra pass over the output, as long as the kernel itself for the cheap ones).
  const allocOverwritten = (backend: MathBackendCPU, n: number) => poolOf(backend).take(n, false);
  // Reordered weights are cached by array identity, so never for arrays the pool may reuse.
  const wcache = (backend: MathBackendCPU, w: Float32Array) =>
    poolOf(backend).isRecyclable(w) ? undefined : weightCacheFor(addon, w);

  /** The output tensor of `shape`, filled by `run` (a native call) in a pooled array. */
  const compute = (backend: MathBackendCPU, shape: number[], run: (y: Float32Array) => void) => {
    const y = alloc(backend, size(shape));
    run(y);
    return out(backend, shape, y);
  };

  function convForward({ inputs, backend, attrs = {} }: KernelArgs, fallback: Fallback) {
    const ins = float32Inputs(backend, inputs, ['x', 'filter']);
    const act = activationCode(attrs);
    if (!ins || act === null || inputs.preluActivationWeights) return fallback();
    const { x, filter } = ins;
    const info = convInfoOf(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
    const params = convParams(info);
    const bias = channelVector(backend, inputs.bias, info.outChannels);
    if (!params || bias === undefined) return fallback();
    const w = filter.values;
    return compute(backend, info.outShape, (y) =>
      addon.conv2dForward(x.values, w, bias, y, params, act, leakyAlpha(attrs), wcache(backend, w)),
    );
  }

  function matmul({ inputs, backend, attrs = {} }: KernelArgs, fallback: Fallback) {
    const ins = float32Inputs(backend, inputs, ['a', 'b']);
    const act = activationCode(attrs);
    if (!ins || act === null || inputs.preluActivationWeights) return fallback();
    const { a, b } = ins;
    const transA = !!attrs.transposeA,
      transB = !!attrs.transposeB;
    const ra = a.shape.length,
      rb = b.shape.length;
    const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
    const Kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
    if (K !== Kb) return fallback(); // let the cpu kernel word the error
    const batchA = a.shape.slice(0, -2),
      batchB = b.shape.slice(0, -2);
    const Ba = size(batchA),
      Bb = size(batchB);
    const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    if (!sameBatch && Ba !== 1 && Bb !== 1) return fallback();
    const outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
    const bias = channelVector(backend, inputs.bias, N);
    if (bias === undefined || M * K * N === 0) return fallback();
    const dims = Int32Array.from([Ba, Bb, M, K, N, transA ? 1 : 0, transB ? 1 : 0]);
    return compute(backend, [...outBatch, M, N], (c) =>
      addon.matmul(a.values, b.values, bias, c, dims, act, leakyAlpha(attrs)),
    );
  }

  function pool(isMax: boolean): Impl {
    return ({ inputs, backend, attrs = {} }, fallback) => {
      const x = float32Inputs(backend, inputs, ['x'])?.x;
      const info = x?.shape.length === 4 ? poolInfoOf(x.shape, attrs) : null;
      const params = info && poolParams(info);
      if (!x || !info || !params) return fallback();
      return compute(backend, info.outShape, (y) => addon.pool(x.values, y, params, isMax));
    };
  }

  function poolGrad(isMax: boolean): Impl {
    return ({ inputs, backend, attrs = {} }, fallback) => {
      const ins = float32Inputs(backend, inputs, ['dy', 'input']);
      const params =
        ins?.input.shape.length === 4 && poolParams(poolInfoOf(ins.input.shape, attrs));
      if (!ins || !params) return fallback();
      const { dy, input } = ins;
      // dx comes zeroed from the pool: oneDNN accumulates into it.
      return compute(backend, input.shape, (dx) =>
        addon.poolBackward(dy.values, isMax ? input.values : null, dx, params, isMax),
      );
    };
  }

  // op: 0 add, 1 sub, 2 mul, 3 div (see native Binary).
  function binary(op: number): Impl {
    return ({ inputs, backend }, fallback) => {
      const ins = float32Inputs(backend, inputs, ['a', 'b']);
      if (!ins) return fallback();
      const { a, b } = ins;
      const swapped =
        size(b.shape) > size(a.shape) ||
        (size(b.shape) === size(a.shape) && b.shape.length > a.shape.length);
      const [big, small] = swapped ? [b, a] : [a, b];
      const plan = broadcastPlan(big.shape, small.shape);
      if (!plan || big.values.length < MIN_NATIVE) return fallback();
      const y = allocOverwritten(backend, big.values.length);
      addon.binary(op, big.values, small.values, y, plan.outer, plan.mid, plan.inner, swapped);
      return out(backend, big.shape, y);
    };
  }

  /** An element-wise kernel of `x` whose native loop writes every element of the output. */
  function elementwise(run: (x: Float32Array, y: Float32Array, attrs: Attrs) => void): Impl {
    return ({ inputs, backend, attrs = {} }, fallback) => {
      const x = float32Inputs(backend, inputs, ['x'])?.x;
      if (!x || x.values.length < MIN_NATIVE) return fallback();
      const y = allocOverwritten(backend, x.values.length);
      run(x.values, y, attrs);
      return out(backend, x.shape, y);
    };
  }

  // op: 0 sqrt, 1 square, 2 rsqrt, 3 neg, 4 abs (see native Unary).
  const unary = (op: number) => elementwise((x, y) => addon.unary(op, x, y));

  function reduce(op: number): Impl {
    return ({ inputs, backend, attrs = {} }, fallback) => {
      const x = float32Inputs(backend, inputs, ['x'])?.x;
      if (!x || x.values.length < MIN_NATIVE) return fallback();
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const block = axisBlock(x.shape, axes);
      if (!block || block.mid === 0) return fallback();
      const shape = attrs.keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      return compute(backend, shape, (y) =>
        addon.reduce(op, x.values, y, block.outer, block.mid, block.inner),
      );
    };
  }

  return {
    Conv2D: convForward,
    FusedConv2D: convForward,

    Conv2DBackpropInput({ inputs, backend, attrs = {} }, fallback) {
      const ins = float32Inputs(backend, inputs, ['dy', 'filter']);
      const xShape = attrs.inputShape as number[];
      const params = ins && convParams(convInfoOf(xShape, ins.filter.shape, attrs));
      if (!ins || !params) return fallback();
      const w = ins.filter.values;
      return compute(backend, xShape, (dx) =>
        addon.conv2dBackwardData(ins.dy.values, w, dx, params, wcache(backend, w)),
      );
    },

    Conv2DBackpropFilter({ inputs, backend, attrs = {} }, fallback) {
      const ins = float32Inputs(backend, inputs, ['x', 'dy']);
      const wShape = attrs.filterShape as number[];
      const params = ins && convParams(convInfoOf(ins.x.shape, wShape, attrs));
      if (!ins || !params) return fallback();
      return compute(backend, wShape, (dw) =>
        addon.conv2dBackwardWeights(ins.x.values, ins.dy.values, dw, params),
      );
    },

    BatchMatMul: matmul,
    _FusedMatMul: matmul,
    MaxPool: pool(true),
    AvgPool: pool(false),
    MaxPoolGrad: poolGrad(true),
    AvgPoolGrad: poolGrad(false),

    Relu: elementwise((x, y) => addon.relu(x, y)),
    Step: elementwise((x, y, attrs) => addon.step(x, y, (attrs.alpha as number | undefined) ?? 0)),
    Add: binary(0),
    Sub: binary(1),
    Multiply: binary(2),
    RealDiv: binary(3),
    Sqrt: unary(0),
    Square: unary(1),
    Rsqrt: unary(2),
    Neg: unary(3),
    Abs: unary(4),
    Sum: reduce(0),
    Mean: reduce(1),

    Concat({ inputs, backend, attrs = {} }, fallback) {
      const parts = inputs as unknown as TensorInfo[];
      const values = parts.map((t) => f32(backend, t));
      if (parts.length < 2 || values.some((v) => !v || v.length === 0)) return fallback();
      const rank = parts[0].shape.length;
      const axis = tf.util.parseAxisParam(attrs.axis as number, parts[0].shape)[0];
      // Shapes must agree off the axis; otherwise the cpu kernel words the error.
      if (
        parts.some(
          (t) =>
            t.shape.length !== rank ||
            t.shape.some((d, i) => i !== axis && d !== parts[0].shape[i]),
        )
      )
        return fallback();
      const outer = size(parts[0].shape.slice(0, axis));
      const widths = Int32Array.from(parts.map((t) => size(t.shape.slice(axis))));
      const shape = [...parts[0].shape];
      shape[axis] = parts.reduce((n, t) => n + t.shape[axis], 0);
      const y = alloc(backend, size(shape));
      if (y.length < MIN_NATIVE) return fallback();
      addon.concat(values as Float32Array[], y, outer, widths);
      return out(backend, shape, y);
    },

    SplitV({ inputs, backend, attrs = {} }, fallback) {
      const { x } = inputs;
      const xv = f32(backend, x);
      if (!x || !xv || xv.length < MIN_NATIVE) return fallback();
      const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(
        x as unknown as tf.Tensor,
        attrs.numOrSizeSplits as number[],
        axis,
      );
      const inner = size(x.shape.slice(axis + 1));
      const shapes = sizes.map((n) => x.shape.map((d, i) => (i === axis ? n : d)));
      const parts = shapes.map((sh) => alloc(backend, size(sh)));
      addon.split(
        xv,
        parts,
        size(x.shape.slice(0, axis)),
        Int32Array.from(sizes.map((n) => n * inner)),
      );
      return parts.map((p, k) => out(backend, shapes[k], p));
    },

    Slice({ inputs, backend, attrs = {} }, fallback) {
      const { x } = inputs;
      const xv = f32(backend, x);
      if (!x || !xv || x.shape.length === 0 || x.shape.length > 8 || xv.length < MIN_NATIVE)
        return fallback();
      const [begin, sizes] = tf.slice_util.parseSliceParams(
        x as unknown as tf.Tensor,
        attrs.begin as number[],
        attrs.size as number[],
      );
      // A contiguous slice is a view in the cpu kernel (no copy); bad parameters get its error.
      if (
        tf.slice_util.isSliceContinous(x.shape, begin, sizes) ||
        sizes.some((n, i) => n < 0 || begin[i] < 0 || begin[i] + n > x.shape[i])
      )
        return fallback();
      const y = alloc(backend, size(sizes));
      if (y.length === 0) return fallback();
      addon.slice(xv, y, Int32Array.from(x.shape), Int32Array.from(begin), Int32Array.from(sizes));
      return out(backend, sizes, y);
    },

    PadV2({ inputs, backend, attrs = {} }, fallback) {
      const { x } = inputs;
      const xv = f32(backend, x);
      const paddings = attrs.paddings as [number, number][];
      if (!x || !xv || x.shape.length === 0 || x.shape.length > 8 || xv.length < MIN_NATIVE)
        return fallback();
      const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
      const y = alloc(backend, size(shape));
      addon.pad(
        xv,
        y,
        Int32Array.from(x.shape),
        Int32Array.from(paddings.map((p) => p[0])),
        Int32Array.from(shape),
        (attrs.constantValue as number | undefined) ?? 0,
      );
      return out(backend, shape, y);
    },

    [BIAS_ACT_GRAD]({ inputs, backend }, fallback) {
      const { dy, y } = inputs;
      const dyv = f32(backend, dy),
        yv = y ? f32(backend, y) : null;
      if (!dy || !dyv || dy.shape.length === 0 || (y && (!yv || yv.length !== dyv.length)))
        return fallback();
      const C = dy.shape[dy.shape.length - 1];
      const db = alloc(backend, C);
      const dx = yv ? allocOverwritten(backend, dyv.length) : null;
      addon.biasActGrad(dyv, yv, dx, db, C);
      return dx ? [out(backend, dy.shape, dx), out(backend, [C], db)] : [out(backend, [C], db)];
    },

    [BN_TRAIN]({ inputs, backend, attrs = {} }, fallback) {
      const x = float32Inputs(backend, inputs, ['x'])?.x;
      const bn = bnormOperands(backend, inputs, x);
      if (!x || !bn) return fallback();
      const { C, scale, offset, params } = bn;
      const y = alloc(backend, x.values.length),
        mean = alloc(backend, C),
        variance = alloc(backend, C);
      addon.bnormTrain(x.values, scale, offset, y, mean, variance, params, attrs.epsilon as number);
      return [out(backend, x.shape, y), out(backend, [C], mean), out(backend, [C], variance)];
    },

    [BN_TRAIN_GRAD]({ inputs, backend, attrs = {} }, fallback) {
      const ins = float32Inputs(backend, inputs, ['x', 'dy', 'mean', 'variance']);
      const bn = bnormOperands(backend, inputs, ins?.x);
      if (!ins || !bn || ins.dy.values.length !== ins.x.values.length) return fallback();
      const [x, dy, mean, variance] = [ins.x, ins.dy, ins.mean, ins.variance].map((t) => t.values);
      const { C, scale, offset, params } = bn;
      const dx = alloc(backend, x.length),
        dscale = alloc(backend, C),
        doffset = alloc(backend, C);
      const eps = attrs.epsilon as number;
      addon.bnormTrainBackward(
        x,
        dy,
        mean,
        variance,
        scale,
        offset,
        dx,
        scale ? dscale : null,
        offset ? doffset : null,
        params,
        eps,
      );
      return [out(backend, ins.x.shape, dx), out(backend, [C], dscale), out(backend, [C], doffset)];
    },

    FusedBatchNorm({ inputs, backend, attrs = {} }, fallback) {
      const x = float32Inputs(backend, inputs, ['x'])?.x;
      if (!x || x.shape.length === 0) return fallback();
      const C = x.shape[x.shape.length - 1];
      const [mean, variance, scale, offset] = [
        inputs.mean,
        inputs.variance,
        inputs.scale,
        inputs.offset,
      ].map((t) => channelVector(backend, t, C));
      if (!mean || !variance || scale === undefined || offset === undefined) return fallback();
      const eps = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
      return compute(backend, x.shape, (y) =>
        addon.batchNorm(x.values, mean, variance, scale, offset, y, C, eps),
      );
    },
  };
}
