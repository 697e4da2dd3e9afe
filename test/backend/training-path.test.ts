// The training step's fast path against plain tfjs: the fused convolution + bias + activation with
// its gradient (lib/train/fused-conv.ts, native relu/bias backward on onednn), the frozen batch norm's
// one-kernel op (lib/models/batchnorm.ts), and a whole step that runs the frozen bottom off the tape
// (lib/train/loop.ts trainOnBatch) against a plain gradient of the whole graph on cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerOnednnBackend } from '../../lib/backend/onednn';
import { fusedConvCall, reluCall } from '../../lib/train/fused-conv';
import { frozenBatchNorm, kerasBatchNormalization } from '../../lib/models/batchnorm';
import { freeze } from '../../lib/models/freeze';
import { compile, sgd, crossEntropy } from '../../lib/train/compile';
import { trainOnBatch } from '../../lib/train/step';
import { planGraph, runPlan, planTrainableVariables } from '../../lib/train/graph';

const reg = registerOnednnBackend();
const backends = reg.ok ? ['cpu', 'onednn'] : ['cpu'];

/** Largest |a - b| relative to the largest |b| (1 when b is all zeros). */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync(),
    bv = b.dataSync();
  assert.equal(av.length, bv.length);
  let err = 0,
    scale = 0;
  for (let i = 0; i < av.length; i++) {
    err = Math.max(err, Math.abs(av[i] - bv[i]));
    scale = Math.max(scale, Math.abs(bv[i]));
  }
  return err / (scale || 1);
}

let seed = 7;
const rand = (lo: number, hi: number) =>
  lo + Math.floor(((seed = (seed * 16807) % 2147483647) / 2147483647) * (hi - lo + 1));

for (const backend of backends) {
  test(`fused conv + bias + activation: output and gradients match tfjs ops (${backend}, random shapes)`, async () => {
    await tf.setBackend(backend);
    for (let trial = 0; trial < 10; trial++) {
      const act = trial % 2 === 0 ? 'relu' : 'linear';
      const useBias = trial % 3 !== 2;
      const stride = rand(1, 2),
        k = rand(1, 3),
        pad = trial % 4 < 2 ? 'same' : 'valid';
      const [n, h, w, ci, co] = [
        rand(1, 3),
        rand(k + 2, 19),
        rand(k + 2, 17),
        rand(1, 24),
        rand(1, 40),
      ];
      const needsDx = trial !== 3,
        trains = trial !== 5;
      tf.tidy(() => {
        const layer = tf.layers.conv2d({
          filters: co,
          kernelSize: k,
          strides: stride,
          padding: pad,
          activation: act,
          useBias,
          biasInitializer: 'randomNormal',
          trainable: trains,
        });
        const x = tf.randomNormal([n, h, w, ci], 0, 1, 'float32', trial);
        layer.apply(x); // builds it
        const wts = layer.getWeights();
        const ref = (xi: tf.Tensor, ...ws: tf.Tensor[]) => {
          let y = tf.conv2d(xi as tf.Tensor4D, ws[0] as tf.Tensor4D, stride, pad);
          if (useBias) y = tf.add(y, ws[1]);
          return act === 'relu' ? tf.relu(y) : y;
        };
        const dyW = tf.randomNormal(ref(x, ...wts).shape, 0, 1, 'float32', 100 + trial);
        const lossRef = (xi: tf.Tensor, ...ws: tf.Tensor[]) =>
          tf.sum(tf.mul(ref(xi, ...ws), dyW)) as tf.Scalar;
        const gRef = tf.grads(lossRef)([x, ...wts]);
        const vars = layer.trainableWeights.map((v) =>
          (v as unknown as { read(): tf.Variable }).read(),
        );
        if (trains) {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.mul(fusedConvCall(layer, x, needsDx), dyW)) as tf.Scalar,
            vars,
          );
          assert.ok(relErr(value, lossRef(x, ...wts)) < 1e-4, `trial ${trial} value`);
          vars.forEach((v, i) =>
            assert.ok(
              relErr(grads[v.name], gRef[1 + i]) < 1e-4,
              `trial ${trial} (${act}, bias ${useBias}, k ${k}, stride ${stride}, ${pad}, [${n},${h},${w},${ci}]->${co}): grad of ${v.name} off by ${relErr(grads[v.name], gRef[1 + i])}`,
            ),
          );
        }
        if (needsDx) {
          const dx = tf.grad((xi: tf.Tensor) =>
            tf.sum(tf.mul(fusedConvCall(layer, xi, true), dyW)),
          )(x);
          assert.ok(relErr(dx, gRef[0]) < 1e-4, `trial ${trial}: dx off by ${relErr(dx, gRef[0])}`);
        }
      });
    }
  });

  test(`relu layer under the tape: one-pass backward = tfjs' relu gradient (${backend})`, async () => {
    await tf.setBackend(backend);
    for (const shape of [
      [3, 9, 7, 40],
      [5, 300],
      [2, 2],
    ]) {
      tf.tidy(() => {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 8);
        const dyW = tf.randomNormal(shape, 0, 1, 'float32', 9);
        const got = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reluCall(t), dyW)))(x);
        const ref = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dyW)))(x);
        assert.ok(relErr(reluCall(x), tf.relu(x)) === 0 && relErr(got, ref) === 0, `relu ${shape}`);
      });
    }
  });

  test(`frozen batch norm: one fused kernel forward, dx = dy * gamma / sqrt(var + eps) (${backend})`, async () => {
    await tf.setBackend(backend);
    for (const [shape, withGamma] of [
      [[2, 5, 7, 13], true],
      [[3, 4, 4, 64], false],
      [[6, 33], true],
    ] as [number[], boolean][]) {
      tf.tidy(() => {
        const C = shape[shape.length - 1];
        const x = tf.randomNormal(shape, 1, 2, 'float32', 1);
        const mean = tf.randomNormal([C], 0, 1, 'float32', 2),
          variance = tf.randomUniform([C], 0.1, 2, 'float32', 3);
        const gamma = withGamma ? tf.randomNormal([C], 1, 0.5, 'float32', 4) : null,
          beta = tf.randomNormal([C], 0, 1, 'float32', 5);
        const dyW = tf.randomNormal(shape, 0, 1, 'float32', 6);
        const ref = (xi: tf.Tensor) => {
          let inv = tf.rsqrt(tf.add(variance, 1e-3));
          if (gamma) inv = tf.mul(inv, gamma);
          return tf.add(tf.mul(tf.sub(xi, mean), inv), beta);
        };
        const y = frozenBatchNorm(x, mean, variance, gamma, beta, 1e-3);
        assert.ok(relErr(y, ref(x)) < 1e-5, `forward ${shape}`);
        const dx = tf.grad((xi: tf.Tensor) =>
          tf.sum(tf.mul(frozenBatchNorm(xi, mean, variance, gamma, beta, 1e-3), dyW)),
        )(x);
        const dxRef = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(ref(xi), dyW)))(x);
        assert.ok(relErr(dx, dxRef) < 1e-5, `dx ${shape}: ${relErr(dx, dxRef)}`);
      });
    }
  });
}

/** Conv(relu) -> frozen BN -> Conv(linear) -> BN -> ReLU -> MaxPool -> Conv(relu) -> GAP -> Dense. */
function smallNet(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  let x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' })
    .apply(input) as tf.SymbolicTensor;
  x = kerasBatchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', name: 'c2' })
    .apply(x) as tf.SymbolicTensor;
  x = kerasBatchNormalization({ name: 'bn2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'r2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'p2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 16, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'c3' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 5, activation: 'softmax', name: 'out' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

for (const upTo of [0, 2, 4]) {
  test(`a training step with layers[:${upTo}] frozen: trainOnBatch${reg.ok ? ' on onednn' : ''} = plain gradient of the whole graph on cpu`, async () => {
    const x = tf.randomNormal([4, 12, 12, 3], 0, 1, 'float32', 11);
    const labels = [0, 3, 1, 4];
    const weightsAfter = async (backend: string, ours: boolean) => {
      await tf.setBackend(backend);
      const model = smallNet();
      freeze(model, { upTo });
      // Deterministic weights, the same on both sides; moving statistics away from 0/1.
      model.setWeights(
        model.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.2, 0.9, 'float32', 50 + i)),
      );
      const xs = tf.tensor(x.dataSync(), x.shape);
      if (ours) {
        compile(model, { optimizer: sgd({ learningRate: 0.5 }) });
        await trainOnBatch(model, xs, labels);
      } else {
        const plan = planGraph(model);
        const vars = planTrainableVariables(plan);
        tf.tidy(() => {
          const { grads } = tf.variableGrads(
            () =>
              tf.mean(
                crossEntropy(tf.tensor1d(labels, 'int32'), runPlan(plan, [xs], true)[0]),
              ) as tf.Scalar,
            vars,
          );
          for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.5)));
        });
      }
      const out = model.getWeights().map((w) => tf.tensor(w.dataSync(), w.shape));
      await tf.setBackend('cpu');
      return out;
    };
    const ref = await weightsAfter('cpu', false);
    const got = await weightsAfter(reg.ok ? 'onednn' : 'cpu', true);
    const before = await (async () => {
      await tf.setBackend('cpu');
      const m = smallNet();
      freeze(m, { upTo });
      return m.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.2, 0.9, 'float32', 50 + i));
    })();
    let changed = 0;
    got.forEach((g, i) => {
      assert.ok(relErr(g, ref[i]) < 2e-4, `weight ${i} [${g.shape}] off by ${relErr(g, ref[i])}`);
      if (relErr(g, before[i]) > 1e-6) changed++;
    });
    assert.ok(changed > 0, 'the step changed some weights');
  });
}

test(
  'trainable batch norm in a training step: onednn kernels = tfjs ops on cpu (output, moving stats, gradients)',
  { skip: reg.ok ? false : `oneDNN addon unavailable: ${reg.ok ? '' : reg.reason}` },
  async () => {
    const cases: [number[], boolean, boolean][] = [
      [[4, 6, 5, 24], true, true],
      [[3, 7, 7, 17], false, true],
      [[16, 40], true, false],
      [[2, 3, 3, 8], false, false],
    ];
    for (const [shape, scale, center] of cases) {
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const layer = kerasBatchNormalization({ scale, center, epsilon: 1.001e-5, momentum: 0.9 });
        const x = tf.randomNormal(shape, 0.5, 2, 'float32', 21);
        layer.apply(x, { training: false }); // builds it
        layer.setWeights(
          layer.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 30 + i)),
        );
        const dyW = tf.randomNormal(shape, 0, 1, 'float32', 22);
        const vars = layer.trainableWeights.map((v) =>
          (v as unknown as { read(): tf.Variable }).read(),
        );
        const f = (xi: tf.Tensor) =>
          tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, dyW)) as tf.Scalar;
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        const dx = tf.grad(f)(x);
        const g = vars.length ? tf.variableGrads(() => f(x), vars).grads : {};
        const res = [y, dx, ...vars.map((v) => g[v.name]), ...layer.getWeights()].map((t) =>
          tf.tensor(t.dataSync(), t.shape),
        );
        await tf.setBackend('cpu');
        return res;
      };
      const ref = await run('cpu');
      const got = await run('onednn');
      got.forEach((t, i) =>
        assert.ok(
          relErr(t, ref[i]) < 1e-4,
          `[${shape}] scale ${scale} center ${center}: tensor ${i} [${t.shape}] off by ${relErr(t, ref[i])}`,
        ),
      );
    }
  },
);
