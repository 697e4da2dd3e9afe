// The three Keras bases (random weights, reduced input size) on 'onednn' against 'cpu': the
// forward output, and the gradients of one fine-tuning step with only the top block trainable.
// The top blocks' batch norms must see enough values per channel: over a few, the gradients are so
// ill-conditioned that float rounding differences (a fused batch-norm kernel against separate ops)
// reach 1e-2. ResNet50 at 64 px (2x2 maps) with batch 8, InceptionV3 at 139 px (3x3) with batch 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerOnednnBackend } from '../../lib/backend/onednn';
import { vgg16 } from '../../lib/models/applications/vgg16';
import { resnet50 } from '../../lib/models/applications/resnet50';
import { inceptionV3 } from '../../lib/models/applications/inceptionV3';
import { freeze } from '../../lib/models/freeze';

const reg = registerOnednnBackend();
const skip = reg.ok ? false : `oneDNN addon unavailable: ${reg.reason}`;

type Builder = typeof vgg16;
const BASES: {
  name: string;
  build: Builder;
  size: number;
  batch: number;
  topFrom: string | number;
}[] = [
  { name: 'VGG16', build: vgg16, size: 32, batch: 2, topFrom: 'block5_conv1' },
  { name: 'ResNet50', build: resnet50, size: 64, batch: 8, topFrom: 'conv5_block3_1_conv' },
  { name: 'InceptionV3', build: inceptionV3, size: 139, batch: 4, topFrom: 249 },
];

async function buildOn(backend: string, b: (typeof BASES)[number], weights?: tf.Tensor[]) {
  await tf.setBackend(backend);
  const base = await b.build({ includeTop: false, weights: null, inputShape: [b.size, b.size, 3] });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 4, activation: 'softmax' })
    .apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  freeze(model, { upTo: b.topFrom }); // before setWeights: freezing reorders model.weights
  // Seeded glorot-uniform weights: unseeded ones make a run ill-conditioned now and then (at 1x1
  // maps a batch norm sees 4 values), and then any backend strays from cpu by 1e-2 or more (wasm as
  // much as onednn) — a flaky test. Batch-norm weights (1-D, constant) stay as built.
  model.setWeights(
    weights ??
      model.getWeights().map((w, i) => {
        if (w.rank < 2) return w;
        const receptive = w.shape.slice(0, -2).reduce((a, b) => a * b, 1);
        const [fanIn, fanOut] = [receptive * w.shape[w.rank - 2], receptive * w.shape[w.rank - 1]];
        const limit = Math.sqrt(6 / (fanIn + fanOut)); // glorot_uniform, as Keras builds them
        return tf.randomUniform(w.shape, -limit, limit, 'float32', 1000 + i);
      }),
  );
  return model;
}

/** Forward output and the trainable weights' gradients, as plain arrays. */
function run(model: tf.LayersModel, xData: Float32Array, shape: number[]) {
  return tf.tidy(() => {
    const x = tf.tensor(xData, shape);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: shape[0] }, (_, i) => (2 * i + 1) % 4),
        'int32',
      ),
      4,
    );
    const pred = model.predict(x) as tf.Tensor;
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () =>
        tf.losses.softmaxCrossEntropy(
          y,
          model.apply(x, { training: true }) as tf.Tensor,
        ) as tf.Scalar,
      vars,
    );
    return [pred, ...vars.map((v) => grads[v.name])].map((t) => t.dataSync().slice());
  });
}

for (const b of BASES) {
  test(
    `${b.name}@${b.size}: onednn forward and top-block gradients match cpu`,
    { skip },
    async () => {
      const shape = [b.batch, b.size, b.size, 3];
      const xData = Float32Array.from(
        { length: b.batch * b.size * b.size * 3 },
        (_, i) => Math.sin(i * 0.37) * 1.5,
      );
      const cpuModel = await buildOn('cpu', b);
      const weights = cpuModel.getWeights().map((w) => w.clone());
      const ref = run(cpuModel, xData, shape);
      cpuModel.dispose();
      const model = await buildOn('onednn', b, weights);
      tf.dispose(weights);
      const got = run(model, xData, shape);
      model.dispose();
      await tf.setBackend('cpu');
      assert.ok(ref.length >= 4, "forward output plus the top block's gradients");
      ref.forEach((r, k) => {
        let scale = 1e-12,
          diff = 0;
        r.forEach((v, i) => {
          scale = Math.max(scale, Math.abs(v));
          diff = Math.max(diff, Math.abs(got[k][i] - v));
        });
        // Deep nets amplify float rounding differences: 1e-3 of the largest value for the output,
        // 2e-3 for gradients (with these seeded weights InceptionV3's worst is 1.07e-3, every run);
        // the 1e-6 floor is for gradients that are zero up to rounding (a conv bias feeding a batch norm).
        assert.ok(
          diff <= (k === 0 ? 1e-3 : 2e-3) * scale + 1e-6,
          `${b.name} ${k === 0 ? 'output' : `gradient ${k}`}: max diff ${diff}, max |ref| ${scale}`,
        );
      });
    },
  );
}
