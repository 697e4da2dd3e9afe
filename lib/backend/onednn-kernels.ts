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
type Impl = (
  args: KernelArgs,
  fallback: () => TensorInfo | TensorInfo[],
) => TensorInfo | TensorInfo[];
type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/** Float32 contents of a tensor in the cpu data store, or null when it is not plain float32. */
function f32(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
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

/** [N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL, PB, PR], or null if unsupported. */
function convParams(c: Conv2DInfo): Int32Array | null {
  if (c.dataFormat !== 'channelsLast') return null;
  const p = c.padInfo;
  const pb = endPad(
    c.inHeight,
    c.outHeight,
    c.strideHeight,
    c.effectiveFilterHeight,
    p.top,
    p.bottom,
  );
  const pr = endPad(c.inWidth, c.outWidth, c.strideWidth, c.effectiveFilterWidth, p.left, p.right);
  if (pb < 0 || pr < 0 || p.top < 0 || p.left < 0) return null;
  return Int32Array.from([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.filterHeight,
    c.filterWidth,
    c.outChannels,
    c.outHeight,
    c.outWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    p.top,
    p.left,
    pb,
    pr,
  ]);
}

/** [N, IH, IW, C, KH, KW, OH, OW, SH, SW, PT, PL, PB, PR], or null if unsupported. */
function poolParams(c: Conv2DInfo): Int32Array | null {
  if (c.dataFormat !== 'channelsLast' || c.dilationHeight !== 1 || c.dilationWidth !== 1)
    return null;
  const p = c.padInfo;
  const pb = endPad(c.inHeight, c.outHeight, c.strideHeight, c.filterHeight, p.top, p.bottom);
  const pr = endPad(c.inWidth, c.outWidth, c.strideWidth, c.filterWidth, p.left, p.right);
  // oneDNN wants every window to touch the input: padding smaller than the window.
  if (
    pb < 0 ||
    pr < 0 ||
    p.top >= c.filterHeight ||
    p.left >= c.filterWidth ||
    pb >= c.filterHeight ||
    pr >= c.filterWidth
  )
    return null;
  return Int32Array.from([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.filterHeight,
    c.filterWidth,
    c.outHeight,
    c.outWidth,
    c.strideHeight,
    c.strideWidth,
    p.top,
    p.left,
    pb,
    pr,
  ]);
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

/** The bias as a plain per-channel vector of length n, or null (absent) / undefined (unsupported). */
function biasVector(
  backend: MathBackendCPU,
  bias: TensorInfo | undefined,
  n: number,
): Float32Array | null | undefined {
  if (!bias) return null;
  const v = f32(backend, bias);
  return v && v.length === n && bias.shape[bias.shape.length - 1] === n ? v : undefined;
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

  function convForward(
    { inputs, backend, attrs = {} }: KernelArgs,
    fallback: () => TensorInfo | TensorInfo[],
  ) {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const xv = f32(backend, x),
      wv = f32(backend, filter);
    const act = activationCode(attrs);
    if (!x || !filter || !xv || !wv || act === null || preluActivationWeights) return fallback();
    const info = convInfoOf(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
    const params = convParams(info);
    const bv = biasVector(backend, bias, info.outChannels);
    if (!params || bv === undefined) return fallback();
    const y = alloc(backend, size(info.outShape));
    addon.conv2dForward(
      xv,
      wv,
      bv,
      y,
      params,
      act,
      (attrs.leakyreluAlpha as number | undefined) ?? 0.2,
      wcache(backend, wv),
    );
    return out(backend, info.outShape, y);
  }

  function matmul(
    { inputs, backend, attrs = {} }: KernelArgs,
    fallback: () => TensorInfo | TensorInfo[],
  ) {
    const { a, b, bias, preluActivationWeights } = inputs;
    const av = f32(backend, a),
      bv = f32(backend, b);
    const act = activationCode(attrs);
    if (!a || !b || !av || !bv || act === null || preluActivationWeights) return fallback();
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
    const biasV = biasVector(backend, bias, N);
    if (biasV === undefined || M * K * N === 0) return fallback();
    const shape = [...outBatch, M, N];
    const c = alloc(backend, size(shape));
    addon.matmul(
      av,
      bv,
      biasV,
      c,
      Int32Array.from([Ba, Bb, M, K, N, transA ? 1 : 0, transB ? 1 : 0]),
      act,
      (attrs.leakyreluAlpha as number | undefined) ?? 0.2,
    );
    return out(backend, shape, c);
  }

  function pool(isMax: boolean) {
    return (
      { inputs, backend, attrs = {} }: KernelArgs,
      fallback: () => TensorInfo | TensorInfo[],
    ) => {
      const { x } = inputs;
      const xv = f32(backend, x);
      if (!x || !xv || x.shape.length !== 4) return fallback();
      const info = poolInfoOf(x.shape, attrs);
      const params = poolParams(info);
      if (!params) return fallback();
      const y = alloc(backend, size(info.outShape));
      addon.pool(xv, y, params, isMax);
      return out(backend, info.outShape, y);
    };
  }

  function poolGrad(isMax: boolean) {
    return (
      { inputs, backend, attrs = {} }: KernelArgs,
      fallback: () => TensorInfo | TensorInfo[],
    ) => {
      const { dy, input } = inputs;
      const dyv = f32(backend, dy),
        xv = f32(backend, input);
      if (!dy || !input || !dyv || !xv || input.shape.length !== 4) return fallback();
      const params = poolParams(poolInfoOf(input.shape, attrs));
      if (!params) return fallback();
      const dx = alloc(backend, size(input.shape)); // zeroed by the pool: oneDNN accumulates into it
      addon.poolBackward(dyv, isMax ? xv : null, dx, params, isMax);
      return out(backend, input.shape, dx);
    };
  }

  // op: 0 add, 1 sub, 2 mul, 3 div (see native Binary).
  function binary(op: number) {
    return ({ inputs, backend }: KernelArgs, fallback: () => TensorInfo | TensorInfo[]) => {
      const { a, b } = inputs;
      const av = f32(backend, a),
        bv = f32(backend, b);
      if (!a || !b || !av || !bv) return fallback();
      const swapped =
        size(b.shape) > size(a.shape) ||
        (size(b.shape) === size(a.shape) && b.shape.length > a.shape.length);
      const [big, small] = swapped ? [a, b].reverse() : [a, b];
      const [bigV, smallV] = swapped ? [bv, av] : [av, bv];
      const plan = broadcastPlan(big.shape, small.shape);
      if (!plan || bigV.length < MIN_NATIVE) return fallback();
      const y = allocOverwritten(backend, bigV.length);
      addon.binary(op, bigV, smallV, y, plan.outer, plan.mid, plan.inner, swapped);
      return out(backend, big.shape, y);
    };
  }

  // op: 0 sqrt, 1 square, 2 rsqrt, 3 neg, 4 abs (see native Unary).
  function unary(op: number) {
    return ({ inputs, backend }: KernelArgs, fallback: () => TensorInfo | TensorInfo[]) => {
      const xv = f32(backend, inputs.x);
      if (!inputs.x || !xv || xv.length < MIN_NATIVE) return fallback();
      const y = allocOverwritten(backend, xv.length);
      addon.unary(op, xv, y);
      return out(backend, inputs.x.shape, y);
    };
  }

  function reduce(op: number) {
    return (
      { inputs, backend, attrs = {} }: KernelArgs,
      fallback: () => TensorInfo | TensorInfo[],
    ) => {
      const { x } = inputs;
      const xv = f32(backend, x);
      if (!x || !xv || xv.length < MIN_NATIVE) return fallback();
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const block = axisBlock(x.shape, axes);
      if (!block || block.mid === 0) return fallback();
      const shape = attrs.keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      const y = alloc(backend, block.outer * block.inner);
      addon.reduce(op, xv, y, block.outer, block.mid, block.inner);
      return out(backend, shape, y);
    };
  }

  return {
    Conv2D: convForward,
    FusedConv2D: convForward,

    Conv2DBackpropInput({ inputs, backend, attrs = {} }, fallback) {
      const { dy, filter } = inputs;
      const dyv = f32(backend, dy),
        wv = f32(backend, filter);
      if (!dy || !filter || !dyv || !wv) return fallback();
      const inputShape = attrs.inputShape as number[];
      const params = convParams(convInfoOf(inputShape, filter.shape, attrs));
      if (!params) return fallback();
      const dx = alloc(backend, size(inputShape));
      addon.conv2dBackwardData(dyv, wv, dx, params, wcache(backend, wv));
      return out(backend, inputShape, dx);
    },

    Conv2DBackpropFilter({ inputs, backend, attrs = {} }, fallback) {
      const { x, dy } = inputs;
      const xv = f32(backend, x),
        dyv = f32(backend, dy);
      if (!x || !dy || !xv || !dyv) return fallback();
      const filterShape = attrs.filterShape as number[];
      const params = convParams(convInfoOf(x.shape, filterShape, attrs));
      if (!params) return fallback();
      const dw = alloc(backend, size(filterShape));
      addon.conv2dBackwardWeights(xv, dyv, dw, params);
      return out(backend, filterShape, dw);
    },

    BatchMatMul: matmul,
    _FusedMatMul: matmul,
    MaxPool: pool(true),
    AvgPool: pool(false),
    MaxPoolGrad: poolGrad(true),
    AvgPoolGrad: poolGrad(false),

    Relu({ inputs, backend }, fallback) {
      const xv = f32(backend, inputs.x);
      if (!inputs.x || !xv || xv.length < MIN_NATIVE) return fallback();
      const y = allocOverwritten(backend, xv.length);
      addon.relu(xv, y);
      return out(backend, inputs.x.shape, y);
    },

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

    Step({ inputs, backend, attrs = {} }, fallback) {
      const xv = f32(backend, inputs.x);
      if (!inputs.x || !xv || xv.length < MIN_NATIVE) return fallback();
      const y = allocOverwritten(backend, xv.length);
      addon.step(xv, y, (attrs.alpha as number | undefined) ?? 0);
      return out(backend, inputs.x.shape, y);
    },

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
      const { x, scale, offset } = inputs;
      const xv = f32(backend, x);
      if (!x || !xv || x.shape.length < 2) return fallback();
      const C = x.shape[x.shape.length - 1];
      const sv = scale ? f32(backend, scale) : null,
        ov = offset ? f32(backend, offset) : null;
      if ((scale && sv?.length !== C) || (offset && ov?.length !== C)) return fallback();
      const params = bnormParams(x.shape, !!sv, !!ov);
      const y = alloc(backend, xv.length),
        mean = alloc(backend, C),
        variance = alloc(backend, C);
      addon.bnormTrain(xv, sv, ov, y, mean, variance, params, attrs.epsilon as number);
      return [out(backend, x.shape, y), out(backend, [C], mean), out(backend, [C], variance)];
    },

    [BN_TRAIN_GRAD]({ inputs, backend, attrs = {} }, fallback) {
      const { x, dy, mean, variance, scale, offset } = inputs;
      const [xv, dyv, mv, vv] = [x, dy, mean, variance].map((t) => f32(backend, t));
      if (!x || !xv || !dyv || !mv || !vv || x.shape.length < 2 || dyv.length !== xv.length)
        return fallback();
      const C = x.shape[x.shape.length - 1];
      const sv = scale ? f32(backend, scale) : null,
        ov = offset ? f32(backend, offset) : null;
      if ((scale && sv?.length !== C) || (offset && ov?.length !== C)) return fallback();
      const params = bnormParams(x.shape, !!sv, !!ov);
      const dx = alloc(backend, xv.length),
        dscale = alloc(backend, C),
        doffset = alloc(backend, C);
      addon.bnormTrainBackward(
        xv,
        dyv,
        mv,
        vv,
        sv,
        ov,
        dx,
        sv ? dscale : null,
        ov ? doffset : null,
        params,
        attrs.epsilon as number,
      );
      return [out(backend, x.shape, dx), out(backend, [C], dscale), out(backend, [C], doffset)];
    },

    FusedBatchNorm({ inputs, backend, attrs = {} }, fallback) {
      const { x, mean, variance, offset, scale } = inputs;
      const xv = f32(backend, x);
      if (!x || !xv || x.shape.length === 0) return fallback();
      const C = x.shape[x.shape.length - 1];
      const perChannel = (t: TensorInfo | undefined) => {
        const v = f32(backend, t);
        return v && v.length === C ? v : undefined;
      };
      const mv = perChannel(mean),
        vv = perChannel(variance);
      const sv = scale ? perChannel(scale) : null,
        ov = offset ? perChannel(offset) : null;
      if (!mv || !vv || sv === undefined || ov === undefined) return fallback();
      const y = alloc(backend, xv.length);
      addon.batchNorm(
        xv,
        mv,
        vv,
        sv,
        ov,
        y,
        C,
        (attrs.varianceEpsilon as number | undefined) ?? 0.001,
      );
      return out(backend, x.shape, y);
    },
  };
}
