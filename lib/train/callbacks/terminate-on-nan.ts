// Keras TerminateOnNaN: stop at the first batch whose loss is NaN or infinite.
import type { Logs, TrainCallback, TrainContext } from '../types';

/**
 * Keras TerminateOnNaN(): stops training as soon as a batch's loss is NaN or infinite (a diverged
 * run: lower the learning rate, check the labels and the preprocessing). The epoch ends after that
 * batch, so History and the callbacks see it; the checkpoints keep the last good save.
 */
export class TerminateOnNaN implements TrainCallback {
  /** The batch (0-based, within its epoch) whose loss was invalid, or null. */
  stoppedAtBatch: number | null = null;

  onTrainBegin(): void {
    this.stoppedAtBatch = null;
  }

  onBatchEnd(batch: number, logs: Logs, ctx: TrainContext): void {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      ctx.log(`Batch ${batch}: Invalid loss, terminating training`);
      this.stoppedAtBatch = batch;
      ctx.stopTraining = true;
    }
  }
}
