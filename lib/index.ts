// The library's entry point: every function a notebook calls is exported from here.
export * from './config';
export * from './display';
export * from './backend';
export * from './data';
export * from './models';
export * from './train';
export * from './evaluate';
export * from './charts';
export type { ImageDataset, Batch, LabelMode } from './data/types';
export type { History, EpochLog, PhaseMark } from './train/types';
// Both the data pipeline and the model zoo name Keras' preprocess modes; they are the same union.
export type { PreprocessMode } from './models';
