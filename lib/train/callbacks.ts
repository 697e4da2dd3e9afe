// Keras callbacks with Keras' options, defaults and semantics (tf.keras 2.x), one module each:
// EarlyStopping, ReduceLROnPlateau and ModelCheckpoint (on the one monitor base, ./monitor.ts),
// CSVLogger, TerminateOnNaN. The LR finder is a callback too; it lives with its chart
// (lib/charts/lr-find.ts). The modules are in ./callbacks/; this file re-exports them (a file, not a
// folder index: lib/ has no index files but lib/index.ts), so every import of lib/train/callbacks and
// the notebooks' `nb.EarlyStopping` … keep working as when this was one file.
export { EarlyStopping, type EarlyStoppingOptions } from './callbacks/early-stopping';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './callbacks/reduce-lr-on-plateau';
export {
  ModelCheckpoint,
  formatCheckpointPath,
  defaultCheckpointWriter,
  type CheckpointWriter,
  type ModelCheckpointOptions,
} from './callbacks/model-checkpoint';
export { CSVLogger, type CSVLoggerOptions } from './callbacks/csv-logger';
export { TerminateOnNaN } from './callbacks/terminate-on-nan';

// The callback interfaces live in ./types (the loop and the monitor read them too); callbacks are
// written against them, so they are importable from here as well.
export type { Logs, TrainCallback, TrainContext } from './types';
