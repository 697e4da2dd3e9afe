// Keras' L2 penalties are added outside the gradient tape (value into the loss, 2·l2·w into the
// gradients): the step must equal the one that differentiates l2·Σw² on the tape.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { compile, getCompiled, l2Terms, sgd } from '../../lib/train/compile';
import { planGraph } from '../../lib/train/graph';
import { stepPlanFor, trainStep } from '../../lib/train/step';

before(async () => {
  await tf.setBackend('cpu');
});

function headModel(name: string, regularizer = tf.regularizers.l2({ l2: 0.05 })) {
  const input = tf.input({ shape: [4] });
  const hidden = tf.layers
    .dense({
      units: 5,
      activation: 'relu',
      kernelRegularizer: regularizer,
      biasRegularizer: regularizer,
      name: `${name}_h`,
    })
    .apply(input) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, activation: 'softmax', kernelRegularizer: regularizer, name: `${name}_out` })
    .apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name });
  model.layers.forEach((l) =>
    l.setWeights(l.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', 11 + i))),
  );
  return compile(model, {
    optimizer: sgd({ learningRate: 0.5 }),
    loss: 'sparseCategoricalCrossentropy',
  });
}

test('plain L2 penalties are found; anything else makes the step differentiate them', () => {
  const terms = l2Terms(headModel('l2_find'));
  assert.deepEqual(
    terms?.map((t) => [t.variable.name, t.l2]),
    [
      ['l2_find_h/kernel', 0.05],
      ['l2_find_h/bias', 0.05],
      ['l2_find_out/kernel', 0.05],
    ],
  );
  assert.equal(l2Terms(headModel('l1_find', tf.regularizers.l1l2({ l1: 0.01, l2: 0.05 }))), null);
});

test('a step with L2 outside the tape gives the same loss and weights as differentiating it', () => {
  const xs = tf.randomNormal([6, 4], 0, 1, 'float32', 3);
  const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
  const results = [true, false].map((outside) => {
    const model = headModel(outside ? 'l2_out' : 'l2_tape');
    const plan = stepPlanFor(planGraph(model));
    assert.ok(plan.l2 && plan.l2.length === 3);
    const losses = [0, 1, 2].map(
      () =>
        Array.from(
          trainStep(
            outside ? plan : { ...plan, l2: null },
            getCompiled(model)!,
            xs,
            labels,
          ).dataSync(),
        )[0],
    );
    return { losses, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
  });
  const [a, b] = results;
  a.losses.forEach((l, i) =>
    assert.ok(Math.abs(l - b.losses[i]) < 1e-5, `loss ${i}: ${l} vs ${b.losses[i]}`),
  );
  a.weights
    .flat()
    .forEach((w, i) =>
      assert.ok(
        Math.abs(w - b.weights.flat()[i]) < 1e-5,
        `weight ${i}: ${w} vs ${b.weights.flat()[i]}`,
      ),
    );
  // The penalty is in the reported loss: without it the first loss would be smaller.
  assert.ok(a.losses[0] > 0.1);
});
