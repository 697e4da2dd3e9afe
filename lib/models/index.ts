// Public cells of lib/models: Keras-faithful pretrained bases and the tools around them.
export { vgg16 } from './applications/vgg16';
export { resnet50 } from './applications/resnet50';
export { inceptionV3 } from './applications/inceptionV3';
export { kerasConv2d, kerasDense, type ApplicationOptions } from './applications/common';
export {
  KerasBatchNormalization,
  kerasBatchNormalization,
  type KerasBatchNormalizationArgs,
} from './batchnorm';
export {
  preprocessInput,
  preprocessPixels,
  PreprocessInput,
  preprocessInputLayer,
  resolvePreprocessMode,
  CAFFE_MEAN_BGR,
  TORCH_MEAN,
  TORCH_STD,
  type PreprocessMode,
  type KerasPreprocessMode,
  type PreprocessInputArgs,
} from '../data/preprocess';
export {
  readKerasWeights,
  loadKerasWeights,
  saveKerasWeights,
  type LoadKerasWeightsOptions,
  type LoadKerasWeightsReport,
  type KerasWeightsFile,
} from './h5';
export { downloadFile, md5File, type DownloadOptions } from '../io/download';
export {
  getKerasWeights,
  kerasCacheDir,
  kerasWeightsLocation,
  KERAS_WEIGHTS,
  KERAS_WEIGHTS_BASE_URL,
  type KerasApplicationName,
  type WeightsDownloadOptions,
} from './weights';
export {
  freeze,
  unfreeze,
  selectLayers,
  trainableSummary,
  type LayerSelection,
  type TrainableSummary,
} from './freeze';
export { modelSummary, showModelSummary, type ModelSummary, type ModelSummaryRow } from './summary';
export { saveModel, loadModel, folderIOHandler } from './saveload';
export { weightsOrigins, randomWeightsNotice, type WeightsOrigin } from './origin';
export { withPreprocessing } from './with-preprocessing';
export {
  weightsLabel,
  resolveAutoWeights,
  offline,
  type WeightsChoice,
  type AutoWeights,
} from './choose-weights';
export {
  pretrainOnGeneratedData,
  getPretextWeights,
  pretextWeightsLocation,
  PRETEXT_LABEL,
  PRETEXT_SPECS,
} from './pretext';
export {
  ARCHITECTURES,
  architecture,
  type Architecture,
  type ArchitectureName,
} from './architectures';
