// Training kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks, runs slowly or gets wrong,
// rebuilt from the fast kernels it has (XNNPACK Conv2D, Transpose, Pad, Slice, ...):
//   Conv2DBackpropFilter                 missing   -> a forward Conv2D over transposed x / dy
//   Conv2DBackpropInput                  naive loop -> one forward Conv2D (phase-split for stride > 1)
//   DepthwiseConv2dNativeBackpropFilter  missing   -> per-tap multiply + sum
//   DepthwiseConv2dNativeBackpropInput   missing   -> a forward depthwise conv of zero-dilated dy
//   MaxPoolGrad                          wrong for all-negative windows and ties -> tfjs-cpu's kernel
//   UnsortedSegmentSum (tf.gather's gradient)  missing -> tfjs-cpu's kernel
//
// The kernels are written with tfjs ops. Inside a kernel function the engine does not record ops
// on the gradient tape (kernelDepth > 0), and a kernel function may return a Tensor, so composing
// ops is safe; `tf.tidy` frees the intermediates.
import * as tf from '@tensorflow/tfjs';

type Tensor4D = tf.Tensor4D;
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type PadAttr = 'same' | 'valid' | number | ExplicitPad;
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;
type Pair = [number, number];

interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  top: number;
  left: number;
}

/** Output size, strides and the *top/left* padding, exactly as the forward kernel computes them. */
function geometry(
  xShape: number[],
  filterShape: number[],
  strides: number | Pair,
  dilations: number | Pair,
  pad: PadAttr,
  dimRoundingMode: RoundingMode,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

function checkNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(
      `lib/backend/wasm-gradients.ts: ${kernel} on wasm supports only NHWC ` +
        `(channels-last) data, got dataFormat '${dataFormat}'. Use dataFormat 'channelsLast' in the layer.`,
    );
  }
}

/**
 * `dy` padded for the backward-data pass as a stride-1 'valid' convolution with the flipped
 * filter: effective filter size - 1 - forward padding on the top/left, so that the output has
 * the forward input's height and width.
 */
function padForInputGrad(dy: Tensor4D, g: ConvGeometry, effH: number, effW: number): Tensor4D {
  return padOrCrop(
    dy,
    effH - 1 - g.top,
    effW - 1 - g.left,
    g.inHeight + effH - 1,
    g.inWidth + effW - 1,
  );
}

/**
 * Pads (or crops, where the forward pass never read those pixels) `x` so that exactly the rows
 * `[-top, -top + needH)` and columns `[-left, -left + needW)` of the original input remain.
 */
function padOrCrop(x: Tensor4D, top: number, left: number, needH: number, needW: number): Tensor4D {
  const [n, h, w, c] = x.shape;
  // Negative top/left can't happen with tfjs' padding rules, but cropping handles it anyway.
  const cropTop = Math.max(0, -top);
  const cropLeft = Math.max(0, -left);
  const padTop = Math.max(0, top);
  const padLeft = Math.max(0, left);
  const bottom = needH - padTop - (h - cropTop);
  const right = needW - padLeft - (w - cropLeft);
  let out = x;
  if (cropTop > 0 || cropLeft > 0 || bottom < 0 || right < 0) {
    out = tf.slice(
      x,
      [0, cropTop, cropLeft, 0],
      [n, h - cropTop + Math.min(0, bottom), w - cropLeft + Math.min(0, right), c],
    );
  }
  if (padTop > 0 || padLeft > 0 || bottom > 0 || right > 0) {
    out = tf.pad(out, [
      [0, 0],
      [padTop, Math.max(0, bottom)],
      [padLeft, Math.max(0, right)],
      [0, 0],
    ]);
  }
  return out;
}

/** Inserts `s - 1` zeros between the rows/columns of `x` (the transpose of a strided read). */
function dilateSpatial(x: Tensor4D, sH: number, sW: number): Tensor4D {
  if (sH === 1 && sW === 1) return x;
  const [n, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [n, h, 1, w, 1, c]);
  const padded = tf.pad(x6, [
    [0, 0],
    [0, 0],
    [0, sH - 1],
    [0, 0],
    [0, sW - 1],
    [0, 0],
  ]);
  // Drop the trailing zeros after the last row/column.
  const full = tf.reshape(padded, [n, h * sH, w * sW, c]) as Tensor4D;
  return tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sH + 1, (w - 1) * sW + 1, c]);
}

// ---------------------------------------------------------------------------------------------
// Conv2D

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} xPad[n, oh*s + kh, ow*s + kw, ci] * dy[n,oh,ow,co]:
 * a forward convolution whose "batch" is the input channels, whose "channels" are the batch,
 * whose filter is dy (spatial size Ho x Wo) and whose dilation is the forward stride.
 */
export function conv2dBackpropFilterWasm(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | Pair,
  pad: PadAttr,
  dimRoundingMode?: RoundingMode,
): Tensor4D {
  const g = geometry(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false);
  const needH = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const needW = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  return tf.tidy(() => {
    const xp = padOrCrop(x, g.top, g.left, needH, needW);
    const xT = tf.transpose(xp, [3, 1, 2, 0]); // [Ci, H', W', N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
    const dw = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', [g.strideHeight, g.strideWidth]); // [Ci,Kh,Kw,Co]
    return tf.transpose(dw, [1, 2, 0, 3]);
  });
}

/**
 * How one spatial axis of the input gradient splits into phases (see below): each phase meets
 * `taps` filter taps; `phases` phases meet any tap at all (fewer than s when the kernel is smaller
 * than the stride).
 */
function phaseSplit(k: number, s: number): { taps: number; phases: number } {
  return k >= s ? { taps: Math.ceil(k / s), phases: s } : { taps: 1, phases: k };
}

/**
 * The filter of the input-gradient convolution, [tapsH, tapsW, Co, phasesH * phasesW * Ci]:
 * F[a, b, co, (u, v, ci)] = W[u + sH*(tapsH-1-a), v + sW*(tapsW-1-b), ci, co] (zero past the
 * kernel): taps flipped, in/out channels swapped, phases gathered into output channels.
 * Built in JS from a synchronous read: the filter is small, and wasm's Reverse and rank-6
 * Transpose are generic element loops that cost more than the convolution itself.
 */
function phaseFilter(filter: Tensor4D, sH: number, sW: number): Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const ph = phaseSplit(kh, sH);
  const pw = phaseSplit(kw, sW);
  const src = filter.dataSync();
  const groups = ph.phases * pw.phases;
  const out = new Float32Array(ph.taps * pw.taps * co * groups * ci);
  for (let a = 0; a < ph.taps; a++) {
    for (let b = 0; b < pw.taps; b++) {
      for (let u = 0; u < ph.phases; u++) {
        const y = u + sH * (ph.taps - 1 - a);
        if (y >= kh) continue;
        for (let v = 0; v < pw.phases; v++) {
          const x = v + sW * (pw.taps - 1 - b);
          if (x >= kw) continue;
          const srcBase = (y * kw + x) * ci * co;
          for (let o = 0; o < co; o++) {
            const dst = (((a * pw.taps + b) * co + o) * groups + u * pw.phases + v) * ci;
            for (let c = 0; c < ci; c++) out[dst + c] = src[srcBase + c * co + o]!;
          }
        }
      }
    }
  }
  return tf.tensor4d(out, [ph.taps, pw.taps, co, groups * ci]);
}

/**
 * dx[h] = sum over (oh, k) with oh*s - top + k = h of dy[oh] * W[k]  (per spatial axis; summed
 * over output channels). Stride 1: correlate dy, padded by k-1-top, with the filter flipped in
 * space and with in/out channels swapped.
 * Stride s > 1: write h + top = q*s + u. Phase u only meets taps k = u + s*t, so
 * dx[q*s + u - top] = sum_t dy[q - t] * W[u + s*t]: a stride-1 correlation of dy with that
 * sub-filter. All phases run as ONE convolution whose output channels are (phase, Ci); a
 * depth-to-space reshuffle then interleaves them. This costs about the forward pass, where
 * inserting s-1 zeros between dy's pixels would cost s*s times as much.
 */
export function conv2dBackpropInputWasm(
  dy: Tensor4D,
  filter: Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | Pair,
  pad: PadAttr,
  dimRoundingMode?: RoundingMode,
): Tensor4D {
  const g = geometry(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sH, strideWidth: sW } = g;
  const [n, , , ci] = inputShape;
  return tf.tidy(() => {
    const w = phaseFilter(filter, sH, sW);
    if (sH === 1 && sW === 1) {
      return tf.conv2d(padForInputGrad(dy, g, kh, kw), w, 1, 'valid', 'NHWC');
    }
    const ph = phaseSplit(kh, sH);
    const pw = phaseSplit(kw, sW);
    // Output grid: q < qH rows of s phases cover padded rows 0 .. top + H.
    const qH = Math.ceil((g.top + g.inHeight) / sH);
    const qW = Math.ceil((g.left + g.inWidth) / sW);
    const dyp = padOrCrop(dy, ph.taps - 1, pw.taps - 1, qH + ph.taps - 1, qW + pw.taps - 1);
    const out = tf.conv2d(dyp, w, 1, 'valid', 'NHWC'); // [N, qH, qW, phases * Ci]
    let grid = tf.reshape(out, [n, qH, qW, ph.phases, pw.phases, ci]);
    if (ph.phases < sH || pw.phases < sW) {
      // Phases no tap reaches (kernel smaller than the stride) get zero gradient.
      grid = tf.pad(grid, [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, sH - ph.phases],
        [0, sW - pw.phases],
        [0, 0],
      ]);
    }
    const interleaved = tf.reshape(tf.transpose(grid, [0, 1, 3, 2, 4, 5]), [
      n,
      qH * sH,
      qW * sW,
      ci,
    ]) as Tensor4D;
    return tf.slice(interleaved, [0, g.top, g.left, 0], [n, g.inHeight, g.inWidth, ci]);
  });
}

// ---------------------------------------------------------------------------------------------
// Depthwise

/** The strided window of xPad that filter tap (i, j) sees: shape [N, Ho, Wo, C]. */
function tap(xp: Tensor4D, g: ConvGeometry, i: number, j: number): Tensor4D {
  const begin = [0, i * g.dilationHeight, j * g.dilationWidth, 0];
  const end = [
    g.batch,
    begin[1] + (g.outHeight - 1) * g.strideHeight + 1,
    begin[2] + (g.outWidth - 1) * g.strideWidth + 1,
    g.inChannels,
  ];
  return tf.stridedSlice(xp, begin, end, [1, g.strideHeight, g.strideWidth, 1]) as Tensor4D;
}

/** dW[i,j,c,q] = sum_{n,oh,ow} tap(i,j)[n,oh,ow,c] * dy[n,oh,ow,c*m+q]; one multiply-sum per tap. */
export function depthwiseBackpropFilterWasm(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | Pair,
  dilations: number | Pair,
  pad: PadAttr,
  dimRoundingMode?: RoundingMode,
): Tensor4D {
  const g = geometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const [kh, kw, c, m] = filterShape;
  const needH = (g.outHeight - 1) * g.strideHeight + (kh - 1) * g.dilationHeight + 1;
  const needW = (g.outWidth - 1) * g.strideWidth + (kw - 1) * g.dilationWidth + 1;
  return tf.tidy(() => {
    const xp = padOrCrop(x, g.top, g.left, needH, needW);
    const dy5 = tf.reshape(dy, [g.batch * g.outHeight * g.outWidth, c, m]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const t = tf.reshape(tap(xp, g, i, j), [g.batch * g.outHeight * g.outWidth, c, 1]);
        taps.push(tf.sum(tf.mul(t, dy5), 0)); // [C, m]
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, c, m]) as Tensor4D;
  });
}

/**
 * dx[n,h,w,c] = sum_q (dy[..., c*m+q] correlated with the flipped filter[:, :, c, q]). With the
 * channel multiplier folded into channels this is one depthwise convolution followed by a sum
 * over the m outputs of each input channel.
 */
export function depthwiseBackpropInputWasm(
  dy: Tensor4D,
  filter: Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | Pair,
  dilations: number | Pair,
  pad: PadAttr,
  dimRoundingMode?: RoundingMode,
): Tensor4D {
  const g = geometry(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, true);
  const [kh, kw, c, m] = filter.shape;
  const effH = (kh - 1) * g.dilationHeight + 1;
  const effW = (kw - 1) * g.dilationWidth + 1;
  return tf.tidy(() => {
    const dyd = dilateSpatial(dy, g.strideHeight, g.strideWidth);
    const dyp = padForInputGrad(dyd, g, effH, effW);
    const wFlipped = tf.reverse(tf.reshape(filter, [kh, kw, c * m, 1]), [0, 1]) as Tensor4D;
    const y = tf.depthwiseConv2d(dyp, wFlipped, 1, 'valid', 'NHWC', [
      g.dilationHeight,
      g.dilationWidth,
    ]);
    if (m === 1) return y;
    return tf.sum(tf.reshape(y, [g.batch, g.inHeight, g.inWidth, c, m]), 4) as Tensor4D;
  });
}

// ---------------------------------------------------------------------------------------------
// Registration

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
}

/**
 * Gradient ops hand kernels real Tensors; another kernel may hand plain TensorInfos. Wrap those
 * (with an extra reference, so disposing the wrapper leaves the caller's data alone).
 */
function asTensor(info: tf.TensorInfo | undefined): Tensor4D {
  if (info === undefined)
    throw new Error(
      'lib/backend/wasm-gradients.ts: a gradient kernel was called without one of its inputs.',
    );
  if (info instanceof tf.Tensor) return info as Tensor4D;
  tf.backend().incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info) as Tensor4D;
}

/** Runs a kernel body; wrappers made by `asTensor` and all intermediates are freed. */
function withInputs<T extends tf.Tensor>(body: () => T): T {
  return tf.tidy(body);
}

type Attrs = Record<string, unknown>;
type Shape4 = [number, number, number, number];

/**
 * Adapts one of the functions above to a kernel: `inputNames` are the kernel's two inputs in the
 * function's argument order, `shapeAttr` the attr holding the output shape, and
 * `depthwise` whether a `dilations` attr comes before `pad`.
 */
function convKernel(
  name: string,
  inputNames: [string, string],
  shapeAttr: 'filterShape' | 'inputShape',
  depthwise: boolean,
  fn: (a: Tensor4D, b: Tensor4D, shape: Shape4, strides: Pair, ...rest: never[]) => Tensor4D,
): { name: string; kernelFunc: (args: KernelArgs) => tf.Tensor } {
  return {
    name,
    kernelFunc: ({ inputs, attrs }) => {
      const a = (attrs ?? {}) as Attrs;
      if (!depthwise) checkNHWC(name, a.dataFormat as string | undefined);
      const rest = (
        depthwise ? [a.dilations, a.pad, a.dimRoundingMode] : [a.pad, a.dimRoundingMode]
      ) as never[];
      return withInputs(() =>
        fn(
          asTensor(inputs[inputNames[0]]),
          asTensor(inputs[inputNames[1]]),
          a[shapeAttr] as Shape4,
          a.strides as Pair,
          ...rest,
        ),
      );
    },
  };
}

const KERNELS = [
  convKernel('Conv2DBackpropFilter', ['x', 'dy'], 'filterShape', false, conv2dBackpropFilterWasm),
  convKernel('Conv2DBackpropInput', ['dy', 'filter'], 'inputShape', false, conv2dBackpropInputWasm),
  convKernel(
    'DepthwiseConv2dNativeBackpropFilter',
    ['x', 'dy'],
    'filterShape',
    true,
    depthwiseBackpropFilterWasm,
  ),
  convKernel(
    'DepthwiseConv2dNativeBackpropInput',
    ['dy', 'filter'],
    'inputShape',
    true,
    depthwiseBackpropInputWasm,
  ),
];

// ---------------------------------------------------------------------------------------------
// CPU fallback for cheap kernels

/**
 * Runs tfjs-backend-cpu's own kernel on copies of the inputs (wasm memory is readable
 * synchronously) and copies the results back. Only worth it for kernels that are cheap next to
 * the convolutions around them, such as pooling gradients.
 */
function cpuFallback(
  kernelName: string,
): (args: KernelArgs & { backend: tf.KernelBackend }) => tf.Tensor | tf.Tensor[] {
  return ({ inputs, attrs, backend }) => {
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (cpuKernel === undefined) {
      throw new Error(
        `lib/backend/wasm-gradients.ts: the cpu backend has no '${kernelName}' kernel to fall back on; ` +
          `check that @tensorflow/tfjs (which bundles tfjs-backend-cpu) is installed.`,
      );
    }
    const cpu = tf.engine().findBackend('cpu') as tf.KernelBackend | null;
    if (!cpu) {
      throw new Error(
        `lib/backend/wasm-gradients.ts: '${kernelName}' on wasm needs the cpu backend, which is not registered; ` +
          `import '@tensorflow/tfjs' (it bundles tfjs-backend-cpu).`,
      );
    }
    const cpuInputs: tf.NamedTensorInfoMap = {};
    try {
      for (const [name, info] of Object.entries(inputs)) {
        if (info === undefined) continue;
        const values = backend.readSync(info.dataId);
        cpuInputs[name] = {
          dataId: cpu.write(values, info.shape, info.dtype),
          shape: info.shape,
          dtype: info.dtype,
        };
      }
      const out = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs: attrs ?? {}, backend: cpu });
      const toWasm = (o: tf.TensorInfo): tf.Tensor => {
        const values = cpu.readSync(o.dataId) as tf.TypedArray;
        cpu.disposeData(o.dataId);
        return tf.tensor(values, o.shape, o.dtype);
      };
      // Single-output kernels must return a single tensor (ops don't unwrap arrays).
      return Array.isArray(out) ? out.map(toWasm) : toWasm(out);
    } finally {
      for (const info of Object.values(cpuInputs))
        if (info !== undefined) cpu.disposeData(info.dataId);
    }
  };
}

/**
 * Kernels answered by the cpu backend's implementation. wasm's MaxPoolGrad routes the gradient to
 * the wrong pixel when every value in a pooling window is negative, and to the last (not the
 * first, as TF and tfjs-cpu do) of tied maxima. UnsortedSegmentSum (the gradient of tf.gather,
 * e.g. an Embedding layer) is missing on wasm.
 */
const CPU_FALLBACKS = ['MaxPoolGrad', 'UnsortedSegmentSum'];

let registered = false;

/** Names of the kernels `registerWasmGradientKernels` installs for the 'wasm' backend. */
export const WASM_GRADIENT_KERNELS: readonly string[] = [
  ...KERNELS.map((k) => k.name),
  ...CPU_FALLBACKS,
];

/**
 * Registers the training kernels above for the 'wasm' backend (idempotent; before or after
 * `tf.setBackend('wasm')`). Kernels wasm already has (Conv2DBackpropInput, MaxPoolGrad) are
 * replaced. Other backends are untouched.
 */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  // Load wasm's own kernels first: registering a kernel twice keeps the LAST one, so ours must come
  // after wasm's (its Conv2DBackpropInput and MaxPoolGrad are the ones we replace). Loaded here, not
  // at import: the package registers 'wasm' above 'cpu', and until initBackend() has run, tfjs would
  // refuse every op of a notebook that imported the library ("backend 'wasm' not yet initialized").
  require('@tensorflow/tfjs-backend-wasm');
  const all = [
    ...KERNELS,
    ...CPU_FALLBACKS.map((name) => ({ name, kernelFunc: cpuFallback(name) })),
  ];
  for (const k of all) {
    if (tf.getKernel(k.name, 'wasm') !== undefined) tf.unregisterKernel(k.name, 'wasm');
    tf.registerKernel({
      kernelName: k.name,
      backendName: 'wasm',
      kernelFunc: k.kernelFunc as unknown as tf.KernelFunc,
    });
  }
  registered = true;
}
