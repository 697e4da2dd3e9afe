// Downloads with resume (HTTP Range) and checksum, written atomically: bytes go to `<file>.part`,
// which is renamed to `<file>` only after the checksum matches. Offline, the error says which file
// to place where by hand.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { makeProgress } from './progress';

export interface DownloadOptions {
  /** Expected digest; the download fails (and the partial file is removed) on a mismatch. */
  md5?: string | null;
  sha256?: string | null;
  progress?: boolean;
  /** Give up on a stalled connection after this many ms (default 60 s). */
  timeoutMs?: number;
}

export async function fileDigest(file: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const hash = crypto.createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function verify(file: string, o: DownloadOptions): Promise<string | null> {
  for (const algorithm of ['md5', 'sha256'] as const) {
    const want = o[algorithm];
    if (want) {
      const got = await fileDigest(file, algorithm);
      if (got.toLowerCase() !== want.toLowerCase()) return `${algorithm} ${got}, expected ${want}`;
    }
  }
  return null;
}

function request(url: string, headers: Record<string, string>, timeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data for ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

/**
 * Download `url` to `dest`. An existing `dest` with the right checksum is kept; an existing
 * `dest.part` is resumed with a Range request (restarted if the server ignores ranges).
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  dest = path.resolve(dest);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (fs.existsSync(dest)) {
    const bad = await verify(dest, opts);
    if (!bad) return dest;
    throw new Error(`${dest} exists but its checksum is wrong (${bad}). Delete it and run again.`);
  }
  const part = `${dest}.part`;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  try {
    let target = url;
    for (let redirects = 0; ; redirects++) {
      const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
      const res = await request(target, have ? { Range: `bytes=${have}-` } : {}, timeoutMs);
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        res.resume();
        if (redirects > 5) throw new Error('too many redirects');
        target = new URL(res.headers.location, target).toString();
        continue;
      }
      if (res.statusCode === 416) { res.resume(); break; } // the part file is already complete
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.resume();
        throw new Error(`HTTP ${res.statusCode}`);
      }
      const append = res.statusCode === 206 && have > 0;
      const total = Number(res.headers['content-length'] ?? 0) + (append ? have : 0);
      const bar = makeProgress(`download ${path.basename(dest)}`, total, opts.progress ?? false);
      if (append) bar.tick(have);
      const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
      await new Promise<void>((resolve, reject) => {
        res.on('data', (c: Buffer) => bar.tick(c.length));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('connection closed early')));
        out.on('error', reject);
        out.on('finish', () => resolve());
        res.pipe(out);
      });
      bar.done();
      if (total && fs.statSync(part).size < total) throw new Error(`connection closed after ${fs.statSync(part).size} of ${total} bytes`);
      break;
    }
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(
      `Could not download ${url} (${msg}). If this machine is offline, download it elsewhere and place it at ${dest}` +
        `${opts.md5 ? ` (md5 ${opts.md5})` : opts.sha256 ? ` (sha256 ${opts.sha256})` : ''}, then run again` +
        `${fs.existsSync(part) ? `; the partial download ${part} will be resumed on the next run` : ''}.`,
    );
  }
  const bad = await verify(part, opts);
  if (bad) {
    fs.rmSync(part, { force: true });
    throw new Error(`Downloaded ${url} but the checksum does not match (${bad}); the file was removed. Run again, or place a good copy at ${dest}.`);
  }
  fs.renameSync(part, dest);
  return dest;
}
