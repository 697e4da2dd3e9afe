// Keras callbacks with Keras' options, defaults and semantics (tf.keras 2.x):
// EarlyStopping, ReduceLROnPlateau, ModelCheckpoint (on the one monitor base, ./monitor.ts),
// CSVLogger, TerminateOnNaN.
import * as fs from 'node:fs';

import * as tf from '@tensorflow/tfjs';
import type { Logs, TrainCallback, TrainContext } from './types';
import { saveCheckpoint } from './checkpoint';
import { frozenWeights } from '../models/saveload';
import { removeLeftovers, writeFileAtomic } from '../io/atomic';
import { formatValue } from './history';
import { MonitorCallback, type MonitorMode } from './monitor';

// The callback interfaces live in ./types (the loop and the monitor read them too); callbacks are
// written against them, so they are importable from here as well.
export type { Logs, TrainCallback, TrainContext } from './types';

// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------

/** Keras' filepath templates: 'ckpt-{epoch:02d}-{val_loss:.2f}.keras'. `epoch` is 1-based. */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(
    /\{(\w+)(?::([^}]*))?\}/g,
    (whole, key: string, fmt: string | undefined) => {
      const v = key === 'epoch' ? epoch + 1 : logs[key];
      if (v === undefined) return whole;
      if (!fmt) return String(v);
      const m = /^0?(\d*)(?:\.(\d+))?([dfe])$/.exec(fmt);
      if (!m) return String(v);
      const [, width, prec, type] = m;
      let s =
        type === 'd'
          ? String(Math.round(v))
          : type === 'e'
            ? v.toExponential(Number(prec ?? 6))
            : v.toFixed(Number(prec ?? 6));
      if (width && fmt.startsWith('0')) s = s.padStart(Number(width), '0');
      return s;
    },
  );
}

/** The function ModelCheckpoint writes with; one line to switch to another saver. */
export type CheckpointWriter = (
  model: tf.LayersModel,
  file: string,
  opts: { weightsOnly: boolean },
) => Promise<void>;
export const defaultCheckpointWriter: CheckpointWriter = (model, file, opts) =>
  saveCheckpoint(model, file, opts);

export interface ModelCheckpointOptions {
  monitor?: string;
  verbose?: number;
  /** Save only when the monitor improves on the best value seen (strictly). */
  saveBestOnly?: boolean;
  saveWeightsOnly?: boolean;
  mode?: MonitorMode;
  /** Only save once the monitor beats this value. */
  initialValueThreshold?: number;
  /** Replace the writer (e.g. a lib/models saver); default: one atomic checkpoint file. */
  writer?: CheckpointWriter;
}

/**
 * Keras ModelCheckpoint(filepath, monitor='val_loss', save_best_only=False, save_weights_only=False,
 * mode='auto'). Every write is atomic, so the file on disk is always the last complete save.
 * Load with loadCheckpoint(file) (or loadCheckpointWeights(model, file)).
 */
export class ModelCheckpoint extends MonitorCallback implements TrainCallback {
  readonly filepath: string;
  readonly verbose: number;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  /** Files written so far (the newest last). */
  readonly saved: string[] = [];
  /** The 0-based epoch of the newest file in `saved`. */
  savedEpoch: number | null = null;
  private readonly writer: CheckpointWriter;

  constructor(filepath: string, opts: ModelCheckpointOptions = {}) {
    // Keras' ModelCheckpoint compares without min_delta; initial_value_threshold is its baseline.
    super('ModelCheckpoint', { ...opts, minDelta: 0 }, opts.initialValueThreshold);
    if (!filepath)
      throw new Error(
        'ModelCheckpoint: give a file path, e.g. new ModelCheckpoint("checkpoints/tl_best.keras").',
      );
    this.filepath = filepath;
    this.verbose = opts.verbose ?? 0;
    this.saveBestOnly = opts.saveBestOnly ?? false;
    this.saveWeightsOnly = opts.saveWeightsOnly ?? false;
    this.writer = opts.writer ?? defaultCheckpointWriter;
  }

  describeKept(): string | undefined {
    if (this.savedEpoch === null) return undefined;
    const which = this.saveBestOnly
      ? `best checkpoint (${this.monitor} ${formatValue(this.best)})`
      : 'last checkpoint';
    return `${which} of epoch ${this.savedEpoch + 1} in ${this.saved[this.saved.length - 1]}`;
  }

  async onEpochEnd(epoch: number, logs: Logs, ctx: TrainContext): Promise<void> {
    const file = formatCheckpointPath(this.filepath, epoch, logs);
    if (this.saveBestOnly) {
      const current = this.current(logs, ctx);
      if (current === undefined) return;
      if (!this.isImprovement(current, this.best)) {
        if (this.verbose > 0)
          ctx.log(
            `Epoch ${epoch + 1}: ${this.monitor} did not improve from ${formatValue(this.best)}`,
          );
        return;
      }
      if (this.verbose > 0)
        ctx.log(
          `Epoch ${epoch + 1}: ${this.monitor} improved from ${formatValue(this.best)} to ${formatValue(current)}, saving model to ${file}`,
        );
      this.best = current;
    } else if (this.verbose > 0) ctx.log(`Epoch ${epoch + 1}: saving model to ${file}`);
    await this.writer(ctx.model, file, { weightsOnly: this.saveWeightsOnly });
    this.saved.push(file);
    this.savedEpoch = epoch;
  }
}

// ---------------------------------------------------------------------------------------------

export interface CSVLoggerOptions {
  separator?: string;
  /** Keep the rows already in the file (e.g. for the fine-tuning phase). */
  append?: boolean;
}

/**
 * Keras CSVLogger(filename, separator=',', append=False): one row per epoch, columns `epoch` then the
 * log keys sorted. The whole file is rewritten atomically after every epoch, so it is always
 * complete up to the last finished epoch, even when the run is interrupted.
 */
export class CSVLogger implements TrainCallback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private text = '';

  constructor(filename: string, opts: CSVLoggerOptions = {}) {
    if (!filename)
      throw new Error('CSVLogger: give a file name, e.g. new CSVLogger("train_log.csv").');
    this.filename = filename;
    this.separator = opts.separator ?? ',';
    this.append = opts.append ?? false;
  }

  onTrainBegin(): void {
    this.keys = null;
    this.text = '';
    removeLeftovers(this.filename); // temp files of a run that was killed while writing
    if (this.append && fs.existsSync(this.filename)) {
      this.text = fs.readFileSync(this.filename, 'utf8');
      if (this.text && !this.text.endsWith('\n')) this.text += '\n';
      const header = this.text.split('\n')[0];
      if (header) this.keys = header.split(this.separator).slice(1);
    }
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      this.text += ['epoch', ...this.keys].join(this.separator) + '\n';
    }
    const row = [
      String(epoch),
      ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : String(logs[k]))),
    ];
    this.text += row.join(this.separator) + '\n';
    writeFileAtomic(this.filename, this.text);
  }
}

// ---------------------------------------------------------------------------------------------

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
