// Keras callbacks with Keras' options, defaults and semantics (tf.keras 2.x), one module each:
// EarlyStopping, ReduceLROnPlateau and ModelCheckpoint (on the one monitor base, ../monitor.ts),
// CSVLogger, TerminateOnNaN. The LR finder is a callback too; it lives with its chart
// (lib/charts/lr-find.ts). Everything is re-exported here, so an import of lib/train/callbacks
// and the notebooks' `nb.EarlyStopping` … keep working as when this was one file.
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau';
export {
  ModelCheckpoint,
  formatCheckpointPath,
  defaultCheckpointWriter,
  type CheckpointWriter,
  type ModelCheckpointOptions,
} from './model-checkpoint';
export { CSVLogger, type CSVLoggerOptions } from './csv-logger';
export { TerminateOnNaN } from './terminate-on-nan';

// The callback interfaces live in ../types (the loop and the monitor read them too); callbacks are
// written against them, so they are importable from here as well.
export type { Logs, TrainCallback, TrainContext } from '../types';
