// Keras ModelCheckpoint: save the model (or its weights) after every epoch or when the monitor
// improves, to a path that may hold Keras' {epoch:02d}-style templates. Every write is atomic.
import type * as tf from '@tensorflow/tfjs';
import type { Logs, TrainCallback, TrainContext } from '../types';
import { saveCheckpoint } from '../checkpoint';
import { formatValue } from '../history';
import { MonitorCallback, type MonitorMode } from '../monitor';

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
