import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { predictImage } from '../../lib/charts/predict-image';
import { brightestChannelModel, tinyDataset } from '../evaluate/tiny-dataset';

test('predictImage: top-k classes with confidences, image and table in the HTML', async () => {
  await tf.setBackend('cpu');
  // Native size (40×48): no resampling, so the dataset's tensor and predictImage's input are equal.
  const ds = await tinyDataset({ images: [{ label: 2, colour: 'blue' }], size: [40, 48] });
  const model = brightestChannelModel([40, 48]);
  const before = tf.memory().numTensors;
  const r = await predictImage(model, ds.files[0], {
    classNames: ds.classNames,
    topK: 2,
    preprocess: (x) => x.div(255),
    trueClass: 'blue',
    show: false,
  });
  assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
  assert.deepEqual(
    r.top.map((t) => t.className),
    ['blue', r.top[1].className],
  );
  assert.equal(r.top.length, 2);
  // Same probabilities as the model on the dataset's own tensor.
  const batch = await ds.load([0]);
  const expected = tf.tidy(() => (model.predict(batch.xs) as tf.Tensor).dataSync());
  batch.xs.dispose();
  batch.ys?.dispose();
  assert.ok(Math.abs(r.top[0].probability - expected[2]) < 1e-5);
  assert.ok(r.top[0].probability > r.top[1].probability);
  assert.match(r.html, /<img src="data:image\/jpeg;base64,/);
  assert.match(r.html, /<td style="text-align:left">blue ✓ true class<\/td>/);
  assert.match(r.text, /1\. blue \(Confidence: \d+\.\d\d%\) ✓ true class/);
  assert.match(r.text, /True class: blue\. Top-1 is correct\./);
  assert.equal(r.correct, true);
  assert.equal(r.trueRank, 1);
  // A wrong top-1: the true class is named, the top-1 row is red and marked.
  const wrong = await predictImage(model, ds.files[0], {
    classNames: ds.classNames,
    topK: 2,
    preprocess: (x) => x.div(255),
    trueClass: 'red',
    show: false,
  });
  assert.equal(wrong.correct, false);
  assert.ok(wrong.trueRank! >= 2);
  assert.match(wrong.text, /1\. blue \(Confidence: [\d.]+%\) ✗ wrong/);
  assert.match(
    wrong.text,
    new RegExp(
      `True class: red\\. Top-1 is WRONG \\(blue\\); the true class ranks ${wrong.trueRank} of 3`,
    ),
  );
  assert.match(
    wrong.html,
    /<tr style="color:#d32f2f;font-weight:bold"><td style="text-align:right">1<\/td><td style="text-align:left">blue ✗ wrong/,
  );
  assert.match(wrong.html, /<p style="color:#d32f2f;font-weight:bold[^"]*">True class: red\./);
  await assert.rejects(
    predictImage(model, ds.files[0], {
      classNames: ds.classNames,
      trueClass: 'purple',
      show: false,
    }),
    /trueClass "purple" is not one of the classNames/,
  );
  await assert.rejects(
    predictImage(model, ds.files[0], { classNames: ['a', 'b'], show: false }),
    /outputs 3 classes but 2 classNames/,
  );
});
