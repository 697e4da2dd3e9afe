// The one batch loop. Training epochs, validation, evaluateMetrics, evaluateWithPredictions, predictions (grids, top losses,
// predictImage, Grad-CAM), feature extraction, the LR finder and the stand-in's pretraining all walk
// their batches through forEachBatch, so three things are done in one place for all of them:
//  - the batch's tensors are freed whatever the step does (an exception included);
//  - between batches the loop yields one event-loop turn (display updates go out, a SIGINT arrives)
//    and stops on Jupyter's Interrupt (./interrupt.ts), so no long call runs on in the background;
//  - progress is ticked per batch (the caller's reporter, lib/io/progress or the training line).
import { checkInterrupt, interruptible } from './interrupt';
import type { Progress } from './progress';

/** Anything holding tensors (tfjs' Tensor): freed by the loop after the step. */
export interface Disposable {
  dispose(): void;
}

/** A batch the loop owns: `xs` (and `ys`) are disposed after the step. */
export interface OwnedBatch {
  xs: Disposable;
  ys?: Disposable | null;
}

/** What a step returns to end the loop early (a step limit, stopTraining, a diverged loss). */
export const STOP = Symbol('stop');

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Run `step` on every batch of `batches` (an async generator of a dataset, of cached features, of
 * loaded chunks), freeing each batch after its step. Returns the number of batches run. Throws
 * `Interrupted` after the batch during which Jupyter's Interrupt came; the generator is closed
 * (prefetches settle quietly), so nothing of the call runs on.
 */
export async function forEachBatch<B extends OwnedBatch>(
  batches: AsyncIterable<B> | Iterable<B>,
  step: (batch: B, index: number) => unknown,
  opts: { progress?: Pick<Progress, 'tick'>; count?: (batch: B) => number } = {},
): Promise<number> {
  let index = 0;
  checkInterrupt();
  for await (const batch of batches) {
    let result: unknown;
    try {
      checkInterrupt(); // came while this batch loaded: no step on it
      result = await step(batch, index);
    } finally {
      batch.xs.dispose();
      batch.ys?.dispose();
    }
    index++;
    // One turn of the event loop: the kernel sends display updates, and a SIGINT handler can run.
    await nextTick();
    checkInterrupt();
    opts.progress?.tick(opts.count ? opts.count(batch) : 1);
    if (result === STOP) break;
  }
  return index;
}

/**
 * A long call that walks batches: `interruptible` (what Jupyter's Interrupt stops, and what the line
 * says is kept) around `forEachBatch`. For calls with one loop; calls with several (a training phase:
 * epochs, validation) open the frame once with interruptible() and run forEachBatch inside.
 */
export function runBatches<B extends OwnedBatch>(
  what: string,
  batches: AsyncIterable<B> | Iterable<B>,
  step: (batch: B, index: number) => unknown,
  opts: {
    progress?: Pick<Progress, 'tick'>;
    count?: (batch: B) => number;
    kept?: () => string | undefined;
  } = {},
): Promise<number> {
  return interruptible(what, () => forEachBatch(batches, step, opts), { kept: opts.kept });
}

/**
 * Batches of chosen items, loaded `size` at a time (a prediction grid's tiles, features still to
 * compute): the loader's batch is yielded to forEachBatch, which frees it.
 */
export async function* chunked<B>(
  items: readonly number[],
  size: number,
  load: (chunk: number[]) => Promise<B>,
): AsyncGenerator<B> {
  for (let s = 0; s < items.length; s += size) yield await load(items.slice(s, s + size));
}
