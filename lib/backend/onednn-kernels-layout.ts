// Kernels that only move data: concatenation (every Inception block), split, slice and padding
// (ResNet's zero padding), native copies instead of tfjs' JavaScript loops.
import * as tf from '@tensorflow/tfjs';
import {
  type TensorInfo,
  f32,
  size,
  MIN_NATIVE,
  type Impl,
  type KernelContext,
} from './onednn-operands';

export function layoutKernels(k: KernelContext): Record<string, Impl> {
  const { addon, out, alloc } = k;
  return {
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
  };
}
