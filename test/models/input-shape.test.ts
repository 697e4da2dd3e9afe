// A batch that does not fit the model (a 12×12 dataset into an 8×8 model, as a 96×96 batch into a
// 64×64 base): evaluate, predictGrid and every graph run (cached features, Grad-CAM, top losses)
// name the expected size and the options that set it, instead of tfjs' raw shape error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { evaluateWithPredictions } from '../../lib/evaluate/evaluate';
import { predictGrid } from '../../lib/charts/grid';
import { planGraph, runPlan } from '../../lib/train/graph';
import { brightestChannelModel, tinyDataset } from '../evaluate/tiny-dataset';

const CLEAR =
  /[Tt]he model "[^"]+" takes 8×8 images \(inputShape \[8, 8, 3\]\) but this batch holds 12×12 images\. Load the images at the model's size: targetSize: \[8, 8\] \(flowFromDirectory\) or imageSize: \[8, 8\] \(imageDatasetFromDirectory, datasetFromCsv\);.* Or build the base with inputShape: \[12, 12, 3\]\./;

test('a batch of another size than the model takes: the message names the size and its options', async () => {
  await tf.setBackend('cpu');
  const model = brightestChannelModel([8, 8]);
  const ds = await tinyDataset({
    images: [
      { label: 0, colour: 'red' },
      { label: 1, colour: 'green' },
    ],
    size: [12, 12],
  });
  await assert.rejects(evaluateWithPredictions(model, ds, { show: false }), (e: Error) => {
    assert.match(e.message, /^evaluateWithPredictions: /);
    assert.match(e.message, CLEAR);
    return true;
  });
  await assert.rejects(predictGrid(model, ds, { rows: 1, cols: 2 }), (e: Error) => {
    assert.match(e.message, /^predictGrid: /);
    assert.match(e.message, CLEAR);
    return true;
  });
  const batch = await ds.load([0, 1]);
  assert.throws(
    () => runPlan(planGraph(model), [batch.xs], false),
    (e: Error) => {
      assert.match(e.message, /^The model /);
      assert.match(e.message, CLEAR);
      return true;
    },
  );
  batch.xs.dispose();
});
