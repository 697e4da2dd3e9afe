// Element-wise and reduction kernels on oneDNN's loops: activations, arithmetic with simple
// broadcasting, sums and means. Small tensors stay on the cpu kernels (MIN_NATIVE).
import * as tf from '@tensorflow/tfjs';
import {
  type Attrs,
  type Impl,
  float32Inputs,
  size,
  broadcastPlan,
  axisBlock,
  MIN_NATIVE,
  type KernelContext,
} from './onednn-operands';

export function elementwiseKernels(k: KernelContext): Record<string, Impl> {
  const { addon, out, allocOverwritten, compute } = k;
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
  };
}
