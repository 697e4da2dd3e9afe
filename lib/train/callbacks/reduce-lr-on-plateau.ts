// Keras ReduceLROnPlateau: multiply the optimizer's learning rate by `factor` when the monitored
// value has not improved for `patience` epochs.
import type { Logs, TrainCallback, TrainContext } from '../types';
import { MonitorCallback, type MonitorMode } from '../monitor';

export interface ReduceLROnPlateauOptions {
  monitor?: string;
  /** New rate = rate * factor (must be < 1). */
  factor?: number;
  patience?: number;
  verbose?: number;
  mode?: MonitorMode;
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. */
  cooldown?: number;
  minLr?: number;
}

/** Keras ReduceLROnPlateau(monitor='val_loss', factor=0.1, patience=10, mode='auto', min_delta=1e-4, cooldown=0, min_lr=0). */
export class ReduceLROnPlateau extends MonitorCallback implements TrainCallback {
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly cooldown: number;
  readonly minLr: number;
  wait = 0;
  cooldownCounter = 0;

  constructor(opts: ReduceLROnPlateauOptions = {}) {
    super('ReduceLROnPlateau', { ...opts, minDelta: opts.minDelta ?? 1e-4 });
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor < 1))
      throw new Error(
        `ReduceLROnPlateau: factor must be < 1 (got ${this.factor}); it multiplies the learning rate.`,
      );
    this.patience = opts.patience ?? 10;
    this.verbose = opts.verbose ?? 0;
    this.cooldown = opts.cooldown ?? 0;
    this.minLr = opts.minLr ?? 0;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.resetBest();
  }

  onEpochEnd(epoch: number, logs: Logs, ctx: TrainContext): void {
    const current = this.current(logs, ctx);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const old = ctx.learningRate;
        if (old > Math.fround(this.minLr)) {
          const lr = Math.max(old * this.factor, this.minLr);
          ctx.learningRate = lr;
          if (this.verbose > 0)
            ctx.log(
              `Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${Number(lr.toPrecision(6))}.`,
            );
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}
