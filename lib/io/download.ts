// File download as Keras' `get_file` does it, plus resume: progress, checksum (md5 as Keras'
// `file_hash`, or sha256), HTTP Range resume of a partial `<file>.part`, and atomic placement
// (renamed to its name only once complete and verified). Offline, the error says which file to
// place where by hand.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncFile } from './atomic';
import { ioError } from './errors';
import { progressReporter } from './progress';

export interface DownloadOptions {
  /** Expected md5 (hex), as Keras' `file_hash`; a mismatch deletes the download and throws. */
  md5?: string | null;
  /** Expected sha256 (hex). */
  sha256?: string | null;
  /** No progress output. */
  quiet?: boolean;
  /** Called as bytes arrive (for a notebook display). */
  onProgress?: (received: number, total: number | null) => void;
  /** Give up on a stalled connection after this many ms (default 60 s). */
  timeoutMs?: number;
}

/** An error from downloadFile; `reason` is the short cause (HTTP 404, ECONNREFUSED, md5 …). */
export interface DownloadError extends Error {
  reason: string;
  url: string;
  dest: string;
}

/** Hex digest of a file, streamed (weights files are ~60-500 MB). */
export async function fileDigest(file: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const hash = crypto.createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** md5 of a file (Keras' `file_hash` for application weights). */
export const md5File = (file: string) => fileDigest(file, 'md5');

/** null when `file` matches every checksum given, else what differs ("md5 <got>, expected <want>"). */
export async function checksumMismatch(
  file: string,
  o: Pick<DownloadOptions, 'md5' | 'sha256'>,
): Promise<string | null> {
  for (const algorithm of ['md5', 'sha256'] as const) {
    const want = o[algorithm];
    if (!want) continue;
    const got = await fileDigest(file, algorithm);
    if (got.toLowerCase() !== want.toLowerCase()) return `${algorithm} ${got}, expected ${want}`;
  }
  return null;
}

const MB = (n: number) => (n / 1e6).toFixed(1);

function fail(
  message: string,
  reason: string,
  url: string,
  dest: string,
  cause?: unknown,
): DownloadError {
  return Object.assign(new Error(message, cause ? { cause } : undefined), { reason, url, dest });
}

/** The short cause of a fetch failure: ECONNREFUSED, ENOTFOUND, a timeout… */
function networkReason(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return c?.code ?? c?.message ?? (e as Error).message;
}

/**
 * Downloads `url` to `dest`. An existing `dest` that matches the checksum is kept (no request).
 * Bytes go to `dest + '.part'`; a `.part` left by an interrupted run is resumed with an HTTP Range
 * request (restarted when the server ignores ranges). Only a complete, verified file is renamed to `dest`.
 */
export async function downloadFile(
  url: string,
  destIn: string,
  opts: DownloadOptions = {},
): Promise<string> {
  const dest = path.resolve(destIn);
  const part = `${dest}.part`;
  const sums = opts.md5 ? ` (md5 ${opts.md5})` : opts.sha256 ? ` (sha256 ${opts.sha256})` : '';
  const byHand = `If this machine is offline, download it elsewhere and place it at ${dest}${sums}, then run again`;
  try {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
  } catch (e) {
    throw ioError(e, path.dirname(dest), 'create the folder');
  }
  if (fs.existsSync(dest)) {
    const bad = await checksumMismatch(dest, opts);
    if (!bad) return dest;
    throw fail(
      `${dest} exists but its checksum is wrong (${bad}): it is damaged or outdated. Delete it and run again.`,
      bad,
      url,
      dest,
    );
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const abort = new AbortController();
  let stall: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(stall);
    stall = setTimeout(
      () => abort.abort(new Error(`no data for ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  };
  let received = 0;
  let complete = false;
  try {
    let start = fs.existsSync(part) ? fs.statSync(part).size : 0;
    watch();
    let res = await fetch(url, {
      headers: start > 0 ? { Range: `bytes=${start}-` } : {},
      signal: abort.signal,
    });
    if (res.status === 416) {
      // The partial file is already complete (or bigger than the remote one): verify it below, else restart.
      await res.body?.cancel();
      if (!(await checksumMismatch(part, opts))) complete = true;
      else {
        fs.rmSync(part, { force: true });
        start = 0;
        res = await fetch(url, { signal: abort.signal });
      }
    }
    if (!complete) {
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        const reason = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        throw fail(`Could not download ${url} (${reason}). ${byHand}.`, reason, url, dest);
      }
      if (res.status === 200) start = 0; // the server ignored Range: start over
      const length = Number(res.headers.get('content-length') ?? NaN);
      const rangeTotal = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1];
      const total = rangeTotal
        ? Number(rangeTotal)
        : Number.isFinite(length)
          ? start + length
          : null;
      received = start;
      const progress = progressReporter(`Downloading ${path.basename(dest)}`, {
        total,
        unit: 'bytes',
        enabled: !opts.quiet,
      });
      const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
      // A write error (full disk) destroys the stream, which then closes: remember it, stop, report it.
      let writeError: unknown = null;
      out.on('error', (e) => (writeError = e));
      const closed = new Promise<void>((resolve) => out.on('close', resolve));
      try {
        if (!res.body) throw new Error('empty response body');
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          watch();
          if (!out.write(chunk))
            await new Promise<void>((r) => {
              out.once('drain', r);
              out.once('close', r);
            });
          if (writeError) break;
          received += chunk.length;
          progress.update(received, total);
          opts.onProgress?.(received, total);
        }
      } finally {
        out.end();
        await closed;
        progress.done();
      }
      if (writeError) throw ioError(writeError, part, 'write');
      if (total !== null && received < total)
        throw new Error(`connection closed after ${MB(received)} of ${MB(total)} MB`);
    }
  } catch (e) {
    if ((e as DownloadError).reason || (e as { file?: string }).file) throw e;
    const reason = abort.signal.aborted
      ? String((abort.signal.reason as Error)?.message ?? 'timeout')
      : networkReason(e);
    throw fail(
      `Could not download ${url} (${reason}${received ? ` at ${MB(received)} MB` : ''}). ${byHand}` +
        `${fs.existsSync(part) ? `; the partial download ${part} will be resumed on the next run` : ''}.`,
      reason,
      url,
      dest,
      e,
    );
  } finally {
    clearTimeout(stall);
  }
  const bad = await checksumMismatch(part, opts);
  if (bad) {
    fs.rmSync(part, { force: true });
    throw fail(
      `Downloaded ${url} but the checksum does not match (${bad}): corrupted or changed on the server. ` +
        `The download was removed; run again, or place a good copy at ${dest}.`,
      bad,
      url,
      dest,
    );
  }
  try {
    fsyncFile(part);
    fs.renameSync(part, dest); // atomic placement: same folder
  } catch (e) {
    throw ioError(e, dest, 'place the download at');
  }
  return dest;
}
