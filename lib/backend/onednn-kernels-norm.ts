// Batch normalisation on oneDNN (inference, and with batch statistics in a training step with its
// backward), and the fused bias + activation backward: kernels of our own names beside tfjs' FusedBatchNorm.
import {
  f32,
  float32Inputs,
  channelVector,
  bnormOperands,
  type Impl,
  type KernelContext,
} from './onednn-operands';

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

export function normKernels(k: KernelContext): Record<string, Impl> {
  const { addon, out, alloc, allocOverwritten, compute } = k;
  return {
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
