// The library's entry point: every function a notebook calls is exported from here.
export * from './config';
export * from './display';
export * from './backend/index';
export * from './data/index';
export * from './models/index';
export * from './train/index';
export * from './evaluate/index';
export * from './charts/index';
export * from './export/index';
export type { ImageDataset, Batch, LabelMode } from './data/types';
export type { History, EpochLog, PhaseMark } from './train/types';
// Both the data pipeline and the model zoo name Keras' preprocess modes; they are the same union.
export type { PreprocessMode } from './models/index';
export * from './data/sources';
