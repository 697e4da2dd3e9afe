// tfjs kernels that run on oneDNN. Each reads the cpu backend's Float32Arrays directly,
// writes into a fresh Float32Array that becomes the output tensor, and hands any case it
// does not cover (NCHW, prelu, odd broadcasting, non-float32) to the cpu kernel it replaces.
// One file per concern: convolution/matmul/pooling, element-wise and reductions, data movement,
// normalisation; what they share (operands, shapes, the pooled outputs) is onednn-operands.ts.
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from './onednn-addon';
import type { OnednnOutputPool } from './onednn-pool';
import { kernelContext, type Impl } from './onednn-operands';
import { convKernels } from './onednn-kernels-conv';
import { elementwiseKernels } from './onednn-kernels-elementwise';
import { layoutKernels } from './onednn-kernels-layout';
import { normKernels } from './onednn-kernels-norm';

export { BIAS_ACT_GRAD, BN_TRAIN, BN_TRAIN_GRAD } from './onednn-kernels-norm';

/** The kernels, given the addon and each backend instance's output pool. */
export function onednnKernels(
  addon: OnednnAddon,
  poolOf: (b: MathBackendCPU) => OnednnOutputPool,
): Record<string, Impl> {
  const k = kernelContext(addon, poolOf);
  return { ...convKernels(k), ...elementwiseKernels(k), ...layoutKernels(k), ...normKernels(k) };
}
