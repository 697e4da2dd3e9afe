// Keras EarlyStopping: stop when the monitored value stops improving; optionally put back the
// best epoch's weights at the end (Keras 3 semantics).
import * as tf from '@tensorflow/tfjs';
import type { Logs, TrainCallback, TrainContext } from '../types';
import { frozenWeights } from '../../models/saveload';
import { MonitorCallback, type MonitorMode } from '../monitor';

export interface EarlyStoppingOptions {
  monitor?: string;
  /** Smallest change that counts as an improvement. */
  minDelta?: number;
  /** Epochs without improvement before stopping. */
  patience?: number;
  verbose?: number;
  mode?: MonitorMode;
  /** Training continues while the monitor does not beat this value (patience still applies). */
  baseline?: number;
  /** At the end of training, stopped early or not, put back the weights of the best epoch (Keras 3). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching for improvement at all. */
  startFromEpoch?: number;
}

/** Keras EarlyStopping(monitor='val_loss', min_delta=0, patience=0, mode='auto', baseline=None, restore_best_weights=False). */
export class EarlyStopping extends MonitorCallback implements TrainCallback {
  readonly patience: number;
  readonly verbose: number;
  readonly baseline?: number;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  wait = 0;
  stoppedEpoch = 0;
  bestEpoch = 0;
  private bestWeights: tf.Tensor[] | null = null;
  private keptVariables: tf.LayerVariable[] = [];

  constructor(opts: EarlyStoppingOptions = {}) {
    super('EarlyStopping', opts);
    this.patience = opts.patience ?? 0;
    this.verbose = opts.verbose ?? 0;
    this.baseline = opts.baseline;
    this.restoreBestWeights = opts.restoreBestWeights ?? false;
    this.startFromEpoch = opts.startFromEpoch ?? 0;
  }

  private keepWeights(model: tf.LayersModel): void {
    if (this.bestWeights) tf.dispose(this.bestWeights);
    // Only what can change: a frozen layer's weights (a whole frozen ResNet50, 94 MB) stay as they are
    // during training, so copying them at every improvement would only cost time.
    const frozen = frozenWeights(model);
    this.keptVariables = model.weights.filter((w) => !frozen.has(w));
    // A copy of the values, not a clone: a clone shares the variable's data, and the optimizer then
    // has to allocate fresh arrays every step instead of updating in place.
    this.bestWeights = this.keptVariables.map((w) => {
      const t = w.read();
      return tf.keep(tf.tensor(t.dataSync().slice(), t.shape, t.dtype));
    });
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.resetBest();
    this.bestEpoch = 0;
    if (this.bestWeights) tf.dispose(this.bestWeights);
    this.bestWeights = null;
  }

  onEpochEnd(epoch: number, logs: Logs, ctx: TrainContext): void {
    const current = this.current(logs, ctx);
    if (current === undefined || epoch < this.startFromEpoch) return;
    // Keep the first epoch's weights so there is something to restore if nothing ever improves.
    if (this.restoreBestWeights && this.bestWeights === null) this.keepWeights(ctx.model);
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.keepWeights(ctx.model);
      // Only reset the wait when the baseline is beaten too.
      if (this.baseline === undefined || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      ctx.stopTraining = true;
    }
  }

  // As Keras 3: the best weights come back at the end of training whether it stopped early or ran
  // all its epochs (Keras 2 restored them only on an early stop).
  onTrainEnd(_logs: Logs | undefined, ctx: TrainContext): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0)
      ctx.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights) {
      if (this.verbose > 0)
        ctx.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      const best = this.bestWeights;
      this.keptVariables.forEach((w, i) => w.write(best[i]));
      ctx.history.restoredEpoch = this.bestEpoch; // what heldEpoch(history) and the charts read
    }
    if (this.bestWeights) tf.dispose(this.bestWeights);
    this.bestWeights = null;
  }
}
