// Shipping a trained model: a folder a browser opens (model, local tfjs, one page).
export { exportForWeb, webModelArtifacts, preprocessAsConv } from './web';
export type { ExportForWebOptions, ExportForWebResult, WebPreprocessing } from './web';
