// History: what a training phase returns and what the charts draw; the callback interfaces.
import type * as tf from '@tensorflow/tfjs';

/** One epoch's logs, Keras-style keys: loss, accuracy, top_k_categorical_accuracy, val_loss, val_accuracy, ... */
export interface EpochLog {
  /** 0-based epoch index across the whole (possibly merged) history. */
  epoch: number;
  /** Learning rate used during this epoch. */
  lr: number;
  /** Wall time of this epoch alone (training and validation) in seconds; the phase's is PhaseMark.seconds. */
  seconds: number;
  /** Metric values by Keras name. */
  metrics: Record<string, number>;
}

export interface PhaseMark {
  name: string;
  /** Index into History.epochs where this phase starts. */
  startEpoch: number;
  /**
   * The phase's wall time in seconds, measured once by trainPhase from its first callback to its
   * last: what the summary's [Time] line, the progress line's end and historySeconds() report.
   * Absent in a History written by hand (then its epochs' seconds are summed).
   */
  seconds?: number;
}

export interface History {
  epochs: EpochLog[];
  phases: PhaseMark[];
  /** Free-form notes shown in chart titles, e.g. "random initialisation" when no ImageNet weights. */
  notes?: string[];
  /**
   * The epoch (EpochLog.epoch) whose weights EarlyStopping put back at the end of training; absent
   * when the model kept the last epoch's weights. heldEpoch(history) reads it.
   */
  restoredEpoch?: number;
  /**
   * k of each top-k metric by its name (e.g. { top_k_categorical_accuracy: 3 }), recorded by
   * trainPhase from the compiled metrics: Keras' key has no k, and charts label it "top-3 accuracy".
   */
  metricK?: Record<string, number>;
}

/** Logs at the end of an epoch: loss, metrics, val_* and lr (the rate used during the epoch). */
export type Logs = Record<string, number>;

/** What a callback can see and change while a phase runs. */
export interface TrainContext {
  readonly model: tf.LayersModel;
  /** The phase's name (trainPhase's `name`). */
  readonly phase: string;
  readonly params: { epochs: number; initialEpoch: number; steps: number };
  /** Epochs finished so far in this phase. */
  readonly history: History;
  /** The values of the last batch alone (onBatchEnd's logs are the epoch's running means, as in Keras). */
  readonly batchLogs: Logs;
  /** The optimizer's learning rate; assigning it changes the rate from the next step on. */
  learningRate: number;
  /** Set to true to stop after the current batch (Keras: model.stop_training = True). */
  stopTraining: boolean;
  /** Print a message without breaking the progress line. */
  log(message: string): void;
}

/** Keras' Callback hooks; any of them may be async. Epoch numbers are 0-based. */
export interface TrainCallback {
  onTrainBegin?(ctx: TrainContext): void | Promise<void>;
  onEpochBegin?(epoch: number, ctx: TrainContext): void | Promise<void>;
  onBatchBegin?(batch: number, ctx: TrainContext): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs, ctx: TrainContext): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs, ctx: TrainContext): void | Promise<void>;
  onTrainEnd?(logs: Logs | undefined, ctx: TrainContext): void | Promise<void>;
  /**
   * What this callback keeps, in a few words, for the one line printed when the run is interrupted
   * (e.g. ModelCheckpoint: "best checkpoint .cache/runs/01/tl_best.keras (epoch 3)").
   */
  describeKept?(): string | undefined;
}
