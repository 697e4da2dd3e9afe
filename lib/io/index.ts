// lib/io: one home for files and the network: atomic writes, downloads, progress lines, HTML escaping.
export {
  writeFileAtomic,
  writeAllSync,
  writeFileSynced,
  replaceAtomically,
  removeLeftovers,
  loadable,
  fsyncFile,
  type AtomicWriteOptions,
  type FileData,
  type ReplaceOptions,
} from './atomic';
export { ioError, type IoError } from './errors';
export {
  downloadFile,
  fileDigest,
  md5File,
  checksumMismatch,
  type DownloadOptions,
  type DownloadError,
} from './download';
export { progressReporter, type Progress, type ProgressOptions } from './progress';
export { escapeHtml } from './html';
