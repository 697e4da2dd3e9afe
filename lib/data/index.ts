// Public cells of lib/data: folder and CSV datasets, decoding, augmentation, previews,
// the synthetic offline dataset, and dataset preparation.
export { imageDatasetFromDirectory, flowFromDirectory, listClassFolders } from './directory';
export type {
  ImageDatasetFromDirectoryOptions,
  FlowFromDirectoryOptions,
  ClassMode,
  Subset,
} from './directory';
export { datasetFromCsv, readCsvRecords } from './csv';
export type { DatasetFromCsvOptions } from './csv';
export { createImageDataset } from './dataset';
export type { ImageLoadOptions, DatasetSource } from './dataset';
export {
  decodeImageFile,
  decodeImageBuffer,
  loadImageFile,
  resizeRgb,
  isImageFile,
  IMAGE_EXTENSIONS,
  MAX_IMAGE_PIXELS,
} from './decode';
export type { RawImage, DecodedRgb, Interpolation, LoadImageOptions } from './decode';
export { decodeNetpbm } from './ppm';
export { ImageDataGenerator, affineMatrix, warpAffine, IDENTITY_TRANSFORM } from './augment';
export type { ImageDataGeneratorOptions, TransformParams, FillMode } from './augment';
export { previewAugmentation } from './preview';
export type { PreviewOptions, PreviewResult } from './preview';
export { makeSyntheticSigns, renderSyntheticSign, syntheticClass } from './synthetic';
export type { SyntheticSignsOptions, SyntheticSignsResult } from './synthetic';
export { prepareGtsrb, GTSRB_ARCHIVES, GTSRB_BASE_URL } from './prepare/gtsrb';
export type { PrepareGtsrbOptions } from './prepare/gtsrb';
export {
  prepareStanfordCars,
  readCarsDevkit,
  readCarsCsv,
  splitCars,
  readMatFile,
} from './prepare/cars';
export type { PrepareCarsOptions, CarsAnnotation, CarsAnnotations } from './prepare/cars';
export { isCompleteDataset } from './prepare/atomic';
