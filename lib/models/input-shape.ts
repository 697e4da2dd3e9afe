// One message for a batch that does not fit the model's input (a 96×96 batch into a 64×64 model),
// checked before tfjs' own check ("expected input_1 to have shape [null,64,64,3]"), which names no
// size to change. The message names the expected size and the options that set it.
import type * as tf from '@tensorflow/tfjs';

/** Shape of one example (no batch dimension); null where the model takes any size. */
type ExampleShape = (number | null)[];

function fits(want: ExampleShape, got: number[]): boolean {
  return want.length === got.length && want.every((d, i) => d === null || d === got[i]);
}

/**
 * Throw when a batch `xs` does not fit `want` (one example's shape), saying how to fix it: for
 * images, the loaders' size options at the model's size, or a base built for the images' size.
 * `who` names the call that failed (evaluate, predictGrid, …; '' when unknown); `modelName` the model.
 */
export function checkBatchShape(
  want: ExampleShape,
  xs: tf.Tensor,
  who: string,
  modelName: string,
): void {
  const got = xs.shape.slice(1);
  if (fits(want, got)) return;
  const show = (s: ExampleShape) => `[${s.map((d) => d ?? 'any').join(', ')}]`;
  const the = `${who ? `${who}: the` : 'The'} model "${modelName}"`;
  const [h, w, c] = want;
  if (want.length === 3 && got.length === 3 && h !== null && w !== null) {
    const size = `[${h}, ${w}]`;
    throw new Error(
      `${the} takes ${h}×${w} images (inputShape ${show(want)}) but this ` +
        `batch holds ${got[0]}×${got[1]}${got[2] !== c ? `×${got[2]}` : ''} images. Load the images at ` +
        `the model's size: targetSize: ${size} (flowFromDirectory) or imageSize: ${size} ` +
        `(imageDatasetFromDirectory, datasetFromCsv); in the notebooks both come from the config ` +
        `cell's imageSize. Or build the base with inputShape: [${got.join(', ')}].`,
    );
  }
  throw new Error(
    `${the} takes inputs of shape ${show(want)} per example but this ` +
      `batch has ${show(got)}. Feed it what the model was built for, or build it for this input.`,
  );
}

/** checkBatchShape against a model's (first) input. */
export function checkModelInput(model: tf.LayersModel, xs: tf.Tensor, who: string): void {
  checkBatchShape(model.inputs[0].shape.slice(1), xs, who, model.name);
}
