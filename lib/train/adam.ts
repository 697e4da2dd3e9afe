// Keras' Adam update in one pass per variable.
//
// tfjs' AdamOptimizer updates each variable with about a dozen element-wise ops, each allocating a
// new array: for a head's Dense(2048 → 512) that is ~50 MB of fresh memory per step and most of the
// step's time, so a head epoch on cached features took seconds. On the CPU backends (cpu, onednn,
// whose tensors live in JS arrays) this optimizer computes m, v and the new weights in one loop and
// writes the three arrays in place. Elsewhere (wasm, tfjs-node) it is tfjs' Adam.
//
// The update is Keras' (TF2) formula:  alpha = lr · √(1 − β2ᵗ) / (1 − β1ᵗ),
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   w ← w − alpha · m / (√v + ε).
// (tfjs puts ε inside the bias correction, ε·√(1 − β2ᵗ) here; the two differ only when √v ~ ε.)
// State (m, v, β1ᵗ, β2ᵗ, iterations) lives where tfjs keeps it, so getWeights/setWeights still work.
// Writing a weight in place breaks tfjs' rule that a tensor's data never changes, so every such
// write is announced (lib/backend/in-place) to the caches that rely on the rule.
import * as tf from '@tensorflow/tfjs';
import { wroteInPlace } from '../backend/in-place';
import { loadOnednnAddon, type OnednnAddon } from '../backend/onednn-addon';

/** The oneDNN addon's in-place Adam loop, when the onednn backend runs. */
function nativeAdam(): OnednnAddon | null {
  if (tf.getBackend() !== 'onednn') return null;
  const loaded = loadOnednnAddon();
  // An addon built before adamSteps existed (native/build not rebuilt): the JavaScript loop.
  return 'addon' in loaded && typeof loaded.addon.adamSteps === 'function' ? loaded.addon : null;
}

/** True when no other tensor shares this variable's data (tfjs' clone shares it). */
function soleOwner(t: tf.Tensor): boolean {
  const backend = tf.engine().backend as tf.KernelBackend & { refCount?(id: object): number };
  return typeof backend.refCount === 'function' && backend.refCount(t.dataId) === 1;
}

/** Backends whose float32 tensors are plain JS arrays (dataSync returns them without copying). */
const ARRAY_BACKENDS = new Set(['cpu', 'onednn']);

type F32 = Float32Array;
type Moment = { originalName: string; variable: tf.Variable };
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
}

/** Serialised as tfjs' Adam (className 'Adam'): the state and the config are the same. */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1: number, beta2: number, epsilon: number) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  ): void {
    if (!ARRAY_BACKENDS.has(tf.getBackend())) return super.applyGradients(variableGradients);
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({
          name,
          tensor: variableGradients[name] as tf.Tensor | null,
        }));
    const state = this as unknown as AdamState;
    const [b1, b2, eps] = [this.beta1, this.beta2, this.epsilon];
    // accBeta holds β^t for the step being taken (tfjs starts it at β and multiplies after each step).
    const b1t = state.accBeta1.dataSync()[0];
    const b2t = state.accBeta2.dataSync()[0];
    const alpha = (this.learningRate * Math.sqrt(1 - b2t)) / (1 - b1t);
    const native = nativeAdam();
    // The variables the native loop updates, all in one call after this walk (see adamSteps in
    // native/onednn.cc: one thread team for the whole step instead of one per variable).
    const inPlace: { t: tf.Variable[]; w: F32[]; m: F32[]; v: F32[]; g: F32[] } = {
      t: [],
      w: [],
      m: [],
      v: [],
      g: [],
    };
    named.forEach(({ name, tensor: gradient }, i) => {
      const value = tf.engine().registeredVariables[name];
      if (!value) throw new Error(`Adam: no variable named "${name}" is registered.`);
      state.accumulatedFirstMoment[i] ??= {
        originalName: `${name}/m`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      state.accumulatedSecondMoment[i] ??= {
        originalName: `${name}/v`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      if (gradient == null) return;
      const m = state.accumulatedFirstMoment[i].variable;
      const v = state.accumulatedSecondMoment[i].variable;
      const g = gradient.dataSync() as Float32Array;
      const [w0, m0, v0] = [value.dataSync(), m.dataSync(), v.dataSync()] as Float32Array[];
      // In place when nothing else holds the data (a clone, e.g. EarlyStopping's best weights,
      // shares it): no fresh arrays, so no allocation and no garbage per step.
      const own = [soleOwner(value), soleOwner(m), soleOwner(v)];
      const n = w0.length;
      if (native && own[0] && own[1] && own[2]) {
        inPlace.t.push(value);
        inPlace.w.push(w0);
        inPlace.m.push(m0);
        inPlace.v.push(v0);
        inPlace.g.push(g);
        return;
      }
      const [w1, m1, v1] = [w0, m0, v0].map((a, k) => (own[k] ? a : new Float32Array(n)));
      adamStep(w0, m0, v0, g, w1, m1, v1, b1, b2, alpha, eps);
      // Caches derived from the weights' array (oneDNN's reordered copy, the fingerprint) are stale now.
      if (own[0]) wroteInPlace(value, w0);
      for (const [k, variable, values] of [
        [0, value, w1],
        [1, m, m1],
        [2, v, v1],
      ] as const) {
        if (own[k]) continue;
        const t = tf.tensor(values, variable.shape, 'float32');
        variable.assign(t);
        t.dispose();
      }
    });
    if (native && inPlace.t.length > 0) {
      native.adamSteps(inPlace.w, inPlace.m, inPlace.v, inPlace.g, b1, b2, alpha, eps);
      // Every weight written in place is announced, so no cache keeps an earlier step's values.
      inPlace.t.forEach((t, k) => wroteInPlace(t, inPlace.w[k]));
    }
    tf.tidy(() => {
      state.accBeta1.assign(tf.mul(state.accBeta1, b1));
      state.accBeta2.assign(tf.mul(state.accBeta2, b2));
    });
    this.incrementIterations();
  }
}

/** The update of one variable, element by element (a plain function: V8 compiles its loop tight). */
function adamStep(
  w0: Float32Array,
  m0: Float32Array,
  v0: Float32Array,
  g: Float32Array,
  w1: Float32Array,
  m1: Float32Array,
  v1: Float32Array,
  b1: number,
  b2: number,
  alpha: number,
  eps: number,
): void {
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  for (let j = 0, n = w0.length; j < n; j++) {
    const gj = g[j];
    const mj = b1 * m0[j] + c1 * gj;
    const vj = b2 * v0[j] + c2 * gj * gj;
    m1[j] = mj;
    v1[j] = vj;
    w1[j] = w0[j] - (alpha * mj) / (Math.sqrt(vj) + eps);
  }
}
