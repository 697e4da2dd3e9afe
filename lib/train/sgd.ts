// Plain SGD (no momentum) in place: w = w - lr * g, bit for bit tfjs' SGDOptimizer.
//
// tfjs' SGDOptimizer computes add(mul(-lr, g), w) per variable: two kernels, each allocating a new
// array, so a ResNet50 step allocated 94 MB of fresh pages for its new weights and ran 2 x 161
// element-wise kernels (PyTorch's SGD updates in place). On the CPU backends (cpu, onednn: tensors in
// JS arrays) this optimizer writes each weight's own array instead, every variable in one native call
// on onednn (sgdSteps in native/onednn.cc), in a JavaScript loop on cpu; elsewhere it is tfjs' SGD.
// The arithmetic is tfjs': c = float32(-lr), then float32(c * g), then float32(that + w) (tfjs rounds
// each exact double result once, as float arithmetic does). Every in-place write is announced
// (lib/backend/in-place), as the Adam step's are.
import * as tf from '@tensorflow/tfjs';
import { wroteInPlace } from '../backend/in-place';
import { ARRAY_BACKENDS, namedGradients, nativeStep, soleOwner } from './in-place-step';

/** Serialised as tfjs' SGD (className 'SGD'): the config is the same. */
export class FusedSgdOptimizer extends tf.SGDOptimizer {
  constructor(learningRate: number) {
    super(learningRate);
  }

  override applyGradients(
    variableGradients: Parameters<tf.SGDOptimizer['applyGradients']>[0],
  ): void {
    if (!ARRAY_BACKENDS.has(tf.getBackend())) return super.applyGradients(variableGradients);
    const named = namedGradients(variableGradients);
    // tfjs' own factor: the float32 scalar -lr (setLearningRate keeps it in step).
    const cScalar = (this as unknown as { c: tf.Scalar }).c;
    const c = cScalar.dataSync()[0];
    const native = nativeStep('sgdSteps');
    const inPlace: { t: tf.Variable[]; w: Float32Array[]; g: Float32Array[] } = {
      t: [],
      w: [],
      g: [],
    };
    const shared: { name: string; tensor: tf.Tensor }[] = [];
    for (const { name, tensor: gradient } of named) {
      if (gradient == null) continue;
      const value = tf.engine().registeredVariables[name];
      if (!value) throw new Error(`SGD: no variable named "${name}" is registered.`);
      // A variable whose data another tensor shares (a clone, e.g. EarlyStopping's best weights)
      // gets tfjs' update, a new array.
      if (!soleOwner(value) || gradient.dtype !== 'float32') {
        shared.push({ name, tensor: gradient });
        continue;
      }
      inPlace.t.push(value);
      inPlace.w.push(value.dataSync() as Float32Array);
      inPlace.g.push(gradient.dataSync() as Float32Array);
    }
    if (native && inPlace.t.length > 0) native.sgdSteps(inPlace.w, inPlace.g, c);
    else inPlace.w.forEach((w, k) => sgdStep(w, inPlace.g[k], c));
    inPlace.t.forEach((t, k) => wroteInPlace(t, inPlace.w[k]));
    // tfjs' update (a new array) for the variables whose data another tensor shares.
    for (const { name, tensor } of shared) {
      const value = tf.engine().registeredVariables[name];
      tf.tidy(() => value.assign(tf.add(tf.mul(cScalar, tensor), value)));
    }
    this.incrementIterations();
  }
}

/** w = fround(fround(c * g) + w), element by element (a plain function: V8 compiles its loop tight). */
function sgdStep(w: Float32Array, g: Float32Array, c: number): void {
  for (let j = 0, n = w.length; j < n; j++) w[j] = Math.fround(c * g[j]) + w[j];
}
