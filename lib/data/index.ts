// Public cells of lib/data: folder and CSV datasets, decoding, augmentation, previews,
// the synthetic offline dataset, and dataset preparation.
export { imageDatasetFromDirectory, flowFromDirectory, listClassFolders } from './directory';
export type { ImageDatasetFromDirectoryOptions, FlowFromDirectoryOptions, ClassMode, Subset } from './directory';
export { datasetFromCsv, readCsvRecords } from './csv';
export type { DatasetFromCsvOptions } from './csv';
export { createImageDataset } from './dataset';
export type { ImageLoadOptions, DatasetSource } from './dataset';
export { decodeImageFile, decodeImageBuffer, loadImageFile, resizeRgb, isImageFile, IMAGE_EXTENSIONS } from './decode';
export type { RawImage, DecodedRgb, Interpolation, LoadImageOptions } from './decode';
export { decodeNetpbm } from './ppm';
export { applyPreprocessMode } from './preprocess';
export type { PreprocessMode } from './preprocess';
export { ImageDataGenerator, affineMatrix, warpAffine, IDENTITY_TRANSFORM } from './augment';
export type { ImageDataGeneratorOptions, TransformParams, FillMode } from './augment';
