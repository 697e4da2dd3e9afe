// Convolution, matrix product and pooling on oneDNN, forward and backward: the kernels that carry
// a base's arithmetic. Weights reordered for oneDNN are cached (wcache).
import * as tf from '@tensorflow/tfjs';
import {
  type KernelArgs,
  type Fallback,
  type Impl,
  float32Inputs,
  size,
  convParams,
  poolParams,
  convInfoOf,
  poolInfoOf,
  activationCode,
  leakyAlpha,
  channelVector,
  type KernelContext,
} from './onednn-operands';

export function convKernels(k: KernelContext): Record<string, Impl> {
  const { addon, wcache, compute } = k;
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
  };
}
