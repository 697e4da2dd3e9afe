// File download as Keras' `get_file` does it, plus resume: progress bar, md5 check, HTTP Range
// resume of a partial `<file>.part`, and atomic placement (rename once complete and verified).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { isKernel, newDisplay } from '../display';

/** md5 of a file, streamed (weights files are ~60-100 MB). */
export async function md5File(file: string): Promise<string> {
  const hash = crypto.createHash('md5');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface DownloadOptions {
  /** Expected md5 (hex), as Keras' `file_hash`; a mismatch deletes the download and throws. */
  md5?: string;
  /** No progress output. */
  quiet?: boolean;
  /** Called as bytes arrive (for a notebook display). */
  onProgress?: (received: number, total: number | null) => void;
}

const MB = (n: number) => (n / 1e6).toFixed(1);

/** A line updated in place in a notebook; a cli-progress bar in a terminal; lines every 10% in logs. */
function progressReporter(label: string, quiet: boolean) {
  if (quiet) return { update: (_r: number, _t: number | null) => {}, stop: () => {} };
  if (isKernel()) {
    const live = newDisplay();
    let last = -1;
    return {
      update(r: number, t: number | null) {
        const pct = t ? Math.floor((r / t) * 100) : Math.floor(r / 1e6);
        if (pct === last) return;
        last = pct;
        live.text(t ? `${label}: ${pct}% (${MB(r)}/${MB(t)} MB)` : `${label}: ${MB(r)} MB`);
      },
      stop: () => {},
    };
  }
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} MB | ETA {eta}s`, hideCursor: true }, Presets.shades_classic);
    let started = false;
    return {
      update(r: number, t: number | null) {
        if (!started) { bar.start(t ? Number(MB(t)) : 0, 0); started = true; }
        bar.update(Number(MB(r)));
      },
      stop: () => started && bar.stop(),
    };
  }
  let lastDecile = -1;
  return {
    update(r: number, t: number | null) {
      const decile = t ? Math.floor((r / t) * 10) : Math.floor(r / 10e6);
      if (decile !== lastDecile) {
        lastDecile = decile;
        console.log(t ? `${label}: ${decile * 10}% (${MB(r)}/${MB(t)} MB)` : `${label}: ${MB(r)} MB`);
      }
    },
    stop: () => {},
  };
}

/**
 * Downloads `url` to `dest`. Bytes go to `dest + '.part'`; a `.part` left by an interrupted run is
 * resumed with an HTTP Range request. Only a complete file whose md5 matches is renamed to `dest`.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const label = `Downloading ${path.basename(dest)}`;
  let start = fs.existsSync(part) ? fs.statSync(part).size : 0;

  let res = await fetch(url, { headers: start > 0 ? { Range: `bytes=${start}-` } : {} });
  if (res.status === 416) {
    // The partial file is already complete (or bigger than the remote one): verify, else restart.
    await res.body?.cancel();
    if (!opts.md5 || (await md5File(part)) === opts.md5) return place(part, dest);
    fs.rmSync(part, { force: true });
    start = 0;
    res = await fetch(url);
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new Error(`Downloading ${url} failed: HTTP ${res.status} ${res.statusText}. The partial file (if any) is kept at ${part}.`);
  }
  if (res.status === 200) start = 0; // server ignored Range: start over
  const length = Number(res.headers.get('content-length') ?? NaN);
  const rangeTotal = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1];
  const total = rangeTotal ? Number(rangeTotal) : Number.isFinite(length) ? start + length : null;

  const progress = progressReporter(label, opts.quiet ?? false);
  const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  let received = start;
  try {
    if (!res.body) throw new Error('empty response body');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      received += chunk.length;
      progress.update(received, total);
      opts.onProgress?.(received, total);
    }
  } catch (e) {
    throw new Error(`Download of ${url} interrupted at ${MB(received)} MB (${(e as Error).message}). ` +
      `Run again to resume from ${part}.`);
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    progress.stop();
  }
  if (total !== null && received < total) {
    throw new Error(`Download of ${url} stopped at ${MB(received)} of ${MB(total)} MB. Run again to resume from ${part}.`);
  }
  if (opts.md5) {
    const got = await md5File(part);
    if (got !== opts.md5) {
      fs.rmSync(part, { force: true });
      throw new Error(`Downloaded ${path.basename(dest)} from ${url} but its md5 is ${got}, expected ${opts.md5} ` +
        '(corrupted or changed file). The download was deleted; run again to retry.');
    }
  }
  return place(part, dest);
}

/** Atomic placement: a rename within one folder. */
function place(part: string, dest: string): string {
  fs.renameSync(part, dest);
  return dest;
}
