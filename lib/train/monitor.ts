// The one monitor: what EarlyStopping, ReduceLROnPlateau and ModelCheckpoint share (Keras 3's
// MonitorCallback, fastai's TrackerCallback). The quantity watched, its direction, the smallest change
// that counts, the best value so far, and the one test of "is this an improvement" live here, so the
// three callbacks cannot disagree about them.
import type { Logs, TrainContext } from './types';

export type MonitorMode = 'auto' | 'min' | 'max';

/**
 * The direction of a monitored quantity. 'min' and 'max' are taken as given; 'auto' follows Keras'
 * names: a loss is minimised; a name with "acc" in it (accuracy, acc, top_k_categorical_accuracy,
 * val_top3_acc) or ending in "auc" is maximised (Keras 2's EarlyStopping/ReduceLROnPlateau/
 * ModelCheckpoint rules, which differ only on names none of them treat as accuracy-like); anything
 * else is minimised, as in Keras 2 (Keras 3 raises there: pass `mode` for such a metric).
 */
export function monitorMode(monitor: string, mode: MonitorMode = 'auto'): 'min' | 'max' {
  if (mode === 'min' || mode === 'max') return mode;
  const name = monitor.replace(/^val_/, '');
  if (/loss$/.test(name)) return 'min';
  return /acc/.test(name) || /auc$/.test(name) || name.startsWith('fmeasure') ? 'max' : 'min';
}

export interface MonitorOptions {
  /** The quantity watched (a key of the epoch logs). Default 'val_loss'. */
  monitor?: string;
  /** 'min', 'max' or 'auto' (from the name, see monitorMode). */
  mode?: MonitorMode;
  /** Smallest change that counts as an improvement (its sign is ignored, as in Keras). */
  minDelta?: number;
}

/**
 * Base class of the callbacks that watch one quantity. `best` starts at `initialBest` (a baseline,
 * or ±Infinity) and is put back there by `resetBest()` — EarlyStopping and ReduceLROnPlateau reset at
 * the start of every fit, ModelCheckpoint does not (Keras keeps its best across fits).
 */
export abstract class MonitorCallback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  best: number;
  private readonly initialBest: number;

  constructor(
    private readonly callbackName: string,
    opts: MonitorOptions,
    initialBest?: number,
  ) {
    this.monitor = opts.monitor ?? 'val_loss';
    this.mode = monitorMode(this.monitor, opts.mode);
    this.minDelta = Math.abs(opts.minDelta ?? 0);
    this.initialBest = initialBest ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.best = this.initialBest;
  }

  /** Keras' _is_improvement: better than `reference` by more than minDelta, in the monitor's direction. */
  isImprovement(current: number, reference: number): boolean {
    return this.mode === 'min'
      ? current + this.minDelta < reference
      : current - this.minDelta > reference;
  }

  protected resetBest(): void {
    this.best = this.initialBest;
  }

  /** The monitored value in these logs, or undefined (said once per epoch, with what is there). */
  protected current(logs: Logs, ctx: TrainContext): number | undefined {
    const v = logs[this.monitor];
    if (v === undefined) {
      ctx.log(
        `${this.callbackName}: "${this.monitor}" is not in the logs (available: ${Object.keys(logs).join(', ')}); skipping. ` +
          `Pass a validation set for val_* monitors.`,
      );
    }
    return v;
  }
}
