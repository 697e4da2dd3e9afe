// History: what a training phase returns and what the charts draw.

/** One epoch's logs, Keras-style keys: loss, accuracy, top_k_categorical_accuracy, val_loss, val_accuracy, ... */
export interface EpochLog {
  /** 0-based epoch index across the whole (possibly merged) history. */
  epoch: number;
  /** Learning rate used during this epoch. */
  lr: number;
  /** Wall time of the epoch in seconds. */
  seconds: number;
  /** Metric values by Keras name. */
  metrics: Record<string, number>;
}

export interface PhaseMark {
  name: string;
  /** Index into History.epochs where this phase starts. */
  startEpoch: number;
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
}
