// Where Keras' ImageNet weights come from and where they are cached: the same URLs, md5 hashes
// (keras/applications/*.py `file_hash`) and cache folder as Keras, so files Keras already
// downloaded are reused and files downloaded here work in Keras. Which files an architecture has is
// written in its own module (lib/models/applications/*.ts), as in Keras.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadFile, md5File, type DownloadError } from '../io/download';

export interface KerasWeightsInfo {
  /** Folder under Keras' bucket (keras/applications/*.py `BASE_WEIGHTS_PATH`), e.g. 'resnet'. */
  subdir: string;
  file: string;
  /** Keras' `file_hash`. */
  md5: string;
}

/** What this module needs of an architecture: its name and Keras' files (with and without the top). */
export interface KerasWeightFiles {
  name: string;
  weights: { top: KerasWeightsInfo; notop: KerasWeightsInfo };
}

export const KERAS_WEIGHTS_BASE_URL =
  'https://storage.googleapis.com/tensorflow/keras-applications/';

export interface WeightsDownloadOptions {
  /** Folder holding the .h5 files; default `$KERAS_HOME/models` or `~/.keras/models` (Keras' cache). */
  cacheDir?: string;
  /** Mirror of Keras' bucket (default `$KERAS_WEIGHTS_BASE_URL` or Google's storage URL). */
  baseUrl?: string;
  /** No download progress output. */
  quiet?: boolean;
}

/** Keras' cache folder for application weights: `$KERAS_HOME/models`, else `~/.keras/models`. */
export function kerasCacheDir(): string {
  const home = process.env.KERAS_HOME || path.join(os.homedir(), '.keras');
  return path.join(home, 'models');
}

/** URL and cache path of one weights file. */
export function kerasWeightsLocation(
  arch: KerasWeightFiles,
  includeTop: boolean,
  opts: WeightsDownloadOptions = {},
) {
  const info = arch.weights[includeTop ? 'top' : 'notop'];
  const base = opts.baseUrl ?? process.env.KERAS_WEIGHTS_BASE_URL ?? KERAS_WEIGHTS_BASE_URL;
  const url = `${base.replace(/\/?$/, '/')}${info.subdir}/${info.file}`;
  const cacheDir = opts.cacheDir ?? kerasCacheDir();
  return { ...info, url, cacheDir, path: path.join(cacheDir, info.file) };
}

// Files already verified in this process (path -> "size:mtime"), so md5 runs once per file.
const verified = new Map<string, string>();

/**
 * Path of Keras' ImageNet weights for `app`, downloading them on first use (md5-checked,
 * resumable, atomic). Never falls back to random weights: offline with no cached file, the
 * error names the file, its URL and where to copy it.
 */
export async function getKerasWeights(
  arch: KerasWeightFiles,
  includeTop: boolean,
  opts: WeightsDownloadOptions = {},
): Promise<string> {
  const app = arch.name;
  const loc = kerasWeightsLocation(arch, includeTop, opts);
  let damaged = '';
  if (fs.existsSync(loc.path)) {
    const st = fs.statSync(loc.path);
    const stamp = `${st.size}:${st.mtimeMs}`;
    if (verified.get(loc.path) === stamp) return loc.path;
    const got = await md5File(loc.path);
    if (got === loc.md5) {
      verified.set(loc.path, stamp);
      return loc.path;
    }
    // As Keras does: a cached file with the wrong hash is incomplete or damaged; fetch it again.
    // It is kept as .bad (not deleted) until a good copy is in place.
    damaged = `md5 ${got}, expected ${loc.md5}`;
    console.warn(
      `${loc.path} is damaged or incomplete (${damaged}); moved to ${loc.path}.bad, downloading it again.`,
    );
    fs.renameSync(loc.path, `${loc.path}.bad`);
  } else if (fs.existsSync(`${loc.path}.bad`)) {
    damaged = `an earlier run found a wrong md5 and kept it as ${loc.path}.bad`;
  }
  try {
    await downloadFile(loc.url, loc.path, { md5: loc.md5, quiet: opts.quiet });
  } catch (e) {
    const reason = (e as DownloadError).reason ?? (e as Error).message;
    const state = damaged
      ? `: the cached copy is damaged (${damaged}) and a good one`
      : ' are not cached and';
    throw new Error(
      `${app} ImageNet weights${state} could not be downloaded (${reason}).\n` +
        `  file: ${loc.file}\n  url:  ${loc.url}\n  put it here: ${loc.path}\n` +
        `Offline: download the file on a machine with internet and copy it into ${loc.cacheDir}/ ` +
        `(Keras' own cache ~/.keras/models/ holds the same file), or set KERAS_HOME, ` +
        `or pass weights: '/path/to/${loc.file}'. weights: null gives random weights on purpose.`,
    );
  }
  if (damaged) fs.rmSync(`${loc.path}.bad`, { force: true });
  verified.set(
    loc.path,
    (() => {
      const st = fs.statSync(loc.path);
      return `${st.size}:${st.mtimeMs}`;
    })(),
  );
  return loc.path;
}
