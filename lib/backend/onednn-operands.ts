// What the oneDNN kernels share: reading float32 operands from the cpu backend's data store, the
// shape arithmetic that decides whether oneDNN covers a case (else the cpu kernel runs), and the
// kernel context (the addon, pooled outputs). The kernels themselves are in onednn-kernels-*.ts.
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { ONEDNN_ACTIVATIONS, OnednnAddon, weightCacheFor } from './onednn-addon';
import type { OnednnOutputPool } from './onednn-pool';

export type TensorInfo = tf.TensorInfo;
export type Attrs = Record<string, unknown>;
export type KernelArgs = {
  inputs: Record<string, TensorInfo | undefined>;
  backend: MathBackendCPU;
  attrs?: Attrs;
};
/** Runs the cpu kernel this one replaces, for the cases the native code does not cover. */
export type Fallback = () => TensorInfo | TensorInfo[];
export type Impl = (args: KernelArgs, fallback: Fallback) => TensorInfo | TensorInfo[];
export type Conv2DInfo = tf.backend_util.Conv2DInfo;
export type Shape4 = [number, number, number, number];

/** Float32 contents of a tensor in the cpu data store, or null when it is not plain float32. */
export function f32(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/** An input tensor's shape and its float32 contents in the cpu data store. */
export type Float32Input = { shape: number[]; values: Float32Array };

/**
 * The named inputs with their contents, or null when one is absent or not plain float32 (the
 * kernel then hands the case to the cpu kernel).
 */
export function float32Inputs<K extends string>(
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

export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Bottom/right padding oneDNN accepts for this output size. TF may pad one more row than the
 * last window reads ('same' with stride > 1) or round up (dimRoundingMode 'ceil'); reading
 * extra zeros changes nothing, so any padding that yields the same output size is equivalent.
 */
export function endPad(
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
export function endPads(
  c: Conv2DInfo,
  windowHeight: number,
  windowWidth: number,
): [number, number] {
  const p = c.padInfo;
  return [
    endPad(c.inHeight, c.outHeight, c.strideHeight, windowHeight, p.top, p.bottom),
    endPad(c.inWidth, c.outWidth, c.strideWidth, windowWidth, p.left, p.right),
  ];
}

/** [N, IH, IW, C, KH, KW]: the input and window sizes both parameter lists start with. */
export function inputAndWindow(c: Conv2DInfo): number[] {
  return [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth];
}

/** [OH, OW, SH, SW]. */
export function outputAndStrides(c: Conv2DInfo): number[] {
  return [c.outHeight, c.outWidth, c.strideHeight, c.strideWidth];
}

/** [N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL, PB, PR], or null if unsupported. */
export function convParams(c: Conv2DInfo): Int32Array | null {
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
export function poolParams(c: Conv2DInfo): Int32Array | null {
  if (c.dataFormat !== 'channelsLast' || c.dilationHeight !== 1 || c.dilationWidth !== 1)
    return null;
  const p = c.padInfo;
  const [pb, pr] = endPads(c, c.filterHeight, c.filterWidth);
  // oneDNN wants every window to touch the input: padding smaller than the window.
  const [kh, kw] = [c.filterHeight, c.filterWidth];
  if (pb < 0 || pr < 0 || p.top >= kh || p.left >= kw || pb >= kh || pr >= kw) return null;
  return Int32Array.from([...inputAndWindow(c), ...outputAndStrides(c), p.top, p.left, pb, pr]);
}

export function convInfoOf(
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

export function poolInfoOf(xShape: number[], attrs: Attrs): Conv2DInfo {
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
export function bnormParams(shape: number[], hasScale: boolean, hasShift: boolean): Int32Array {
  const C = shape[shape.length - 1];
  const [N, H, W] = shape.length === 4 ? shape : [size(shape.slice(0, -1)), 1, 1];
  return Int32Array.from([N, H, W, C, hasScale ? 1 : 0, hasShift ? 1 : 0]);
}

/** Activation code for a fused kernel, or null when oneDNN cannot fuse it (prelu). */
export function activationCode(attrs: Attrs): number | null {
  const name = (attrs.activation as string | undefined) ?? 'linear';
  return name in ONEDNN_ACTIVATIONS ? ONEDNN_ACTIVATIONS[name] : null;
}

/** LeakyRelu's alpha for a fused kernel (tfjs' default 0.2). */
export function leakyAlpha(attrs: Attrs): number {
  return (attrs.leakyreluAlpha as number | undefined) ?? 0.2;
}

/**
 * A per-channel vector of length n (a bias; a batch norm's scale, offset, mean, variance): null
 * when absent, undefined when it is not float32 with n values on its last axis (cpu kernel then).
 */
export function channelVector(
  backend: MathBackendCPU,
  t: TensorInfo | undefined,
  n: number,
): Float32Array | null | undefined {
  if (!t) return null;
  const v = f32(backend, t);
  return v && v.length === n && t.shape[t.shape.length - 1] === n ? v : undefined;
}

/** A training batch norm's channel count, optional scale and offset, and params; null if unsupported. */
export function bnormOperands(
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
export function broadcastPlan(
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
export function axisBlock(
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

export const MIN_NATIVE = 1024; // below this many elements the JS kernels are as fast as a native call

/** What every kernel uses: the addon and each backend instance's output pool. */
export interface KernelContext {
  addon: OnednnAddon;
  out: (backend: MathBackendCPU, shape: number[], values: Float32Array) => TensorInfo;
  alloc: (backend: MathBackendCPU, n: number) => Float32Array;
  allocOverwritten: (backend: MathBackendCPU, n: number) => Float32Array;
  wcache: (
    backend: MathBackendCPU,
    w: Float32Array,
  ) => ReturnType<typeof weightCacheFor> | undefined;
  compute: (backend: MathBackendCPU, shape: number[], run: (y: Float32Array) => void) => TensorInfo;
}

export function kernelContext(
  addon: OnednnAddon,
  poolOf: (b: MathBackendCPU) => OnednnOutputPool,
): KernelContext {
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
  return { addon, out, alloc, allocOverwritten, wcache, compute };
}
