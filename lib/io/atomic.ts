// Atomic file writes: the bytes go to a temporary sibling, are flushed and checked, and only then
// renamed over the target. A crash, a full disk or a write error leaves the previous file as it was.
//
// Temporary names are `.<name>.tmp-<pid>-<random>` and, while a folder is swapped,
// `.<name>.old-<pid>-<random>` (same suffix as its temp), so leftovers of a killed process are
// recognisable (removeLeftovers) and never mistaken for a finished file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ioError } from './errors';

export type FileData = string | Uint8Array;

const KEPT = 'The previous version (if any) is left as it was.';

/**
 * Write every byte of `data` to `fd`. fs.writeSync may write fewer bytes than asked (full disk,
 * `ulimit -f`); we loop on its count, and a write that makes no progress is an error.
 */
export function writeAllSync(fd: number, data: FileData): number {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < buf.byteLength) {
    const n = fs.writeSync(fd, buf, done, buf.byteLength - done);
    if (n <= 0)
      throw Object.assign(new Error(`no space left: wrote ${done} of ${buf.byteLength} bytes`), {
        code: 'ENOSPC',
      });
    done += n;
  }
  return done;
}

const suffix = () => `${process.pid}-${randomBytes(4).toString('hex')}`;
const tempName = (target: string, kind: 'tmp' | 'old', id: string) =>
  path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${id}`);

export interface AtomicWriteOptions {
  /** fsync before the rename (default true). Caches whose files are recomputed when lost skip it. */
  fsync?: boolean;
  /** Extra check of the finished temp file before it replaces the target; throw to keep the old one. */
  verify?: (tmp: string) => void;
}

/** Write `data` (or its parts, in order) to `file` atomically; throws a message naming the file on any error. */
export function writeFileAtomic(
  file: string,
  data: FileData | FileData[],
  opts: AtomicWriteOptions = {},
): void {
  const target = path.resolve(file);
  const tmp = tempName(target, 'tmp', suffix());
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const fd = fs.openSync(tmp, 'wx');
    let written = 0;
    try {
      for (const part of Array.isArray(data) ? data : [data]) written += writeAllSync(fd, part);
      if (opts.fsync !== false) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    checkSize(tmp, written);
    opts.verify?.(tmp);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw ioError(e, file, 'write', KEPT);
  }
}

/** The file on disk must hold exactly what we wrote (a short write that slipped through would not). */
function checkSize(tmp: string, expected: number): void {
  const size = fs.statSync(tmp).size;
  if (size !== expected)
    throw Object.assign(new Error(`only ${size} of ${expected} bytes reached the disk`), {
      code: 'ENOSPC',
    });
}

/** fsync a file written by other code (e.g. h5wasm), so the rename never publishes unflushed data. */
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface ReplaceOptions {
  /** The target is a folder (written whole into a temp folder, then swapped in). */
  directory?: boolean;
  /** Check the finished temp file/folder before it replaces the target; throw to keep the old one. */
  verify?: (tmp: string) => void | Promise<void>;
}

/**
 * Atomic replacement for content that other code writes: `produce(tmp)` writes a file (or fills a
 * folder) at `tmp`; after `verify`, it replaces `target`. A folder is swapped with two renames; if
 * the process dies between them, loadable() finds the complete new folder under its temp name.
 */
export async function replaceAtomically(
  target: string,
  produce: (tmp: string) => void | Promise<void>,
  opts: ReplaceOptions = {},
): Promise<void> {
  const file = path.resolve(target);
  const id = suffix();
  const tmp = tempName(file, 'tmp', id);
  const old = tempName(file, 'old', id);
  let movedAside = false;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (opts.directory) fs.mkdirSync(tmp);
    await produce(tmp);
    await opts.verify?.(tmp);
    if (!opts.directory) {
      fsyncFile(tmp);
      fs.renameSync(tmp, file);
      return;
    }
    // Swap: old folder aside (same id as the temp, so a crash here is recognisable), new one in, old one out.
    if (fs.existsSync(file)) {
      fs.renameSync(file, old);
      movedAside = true;
    }
    fs.renameSync(tmp, file);
    if (movedAside) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    // The second rename failed: put the previous folder back before removing the new one.
    if (movedAside && !fs.existsSync(file)) fs.renameSync(old, file);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw ioError(e, target, 'write', KEPT);
  }
}

/** Write `data` into a file inside a folder being built by replaceAtomically (all bytes, fsynced). */
export function writeFileSynced(file: string, data: FileData): void {
  const fd = fs.openSync(file, 'w');
  try {
    const written = writeAllSync(fd, data);
    fs.fsyncSync(fd);
    checkSize(file, written);
  } finally {
    fs.closeSync(fd);
  }
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Leftover {
  file: string;
  kind: 'tmp' | 'old';
  id: string;
  pid: number;
}

/** Temp names in `dir`, of `target` only when given. */
function leftovers(target: string, dir = path.dirname(path.resolve(target))): Leftover[] {
  const prefix = target ? `.${path.basename(target)}.` : '.';
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Leftover[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /\.(tmp|old)-((\d+)(?:-[\w-]+)?)$/.exec(n);
    if (m && (!target || n === `${prefix}${m[1]}-${m[2]}`))
      out.push({
        file: path.join(dir, n),
        kind: m[1] as 'tmp' | 'old',
        id: m[2],
        pid: Number(m[3]),
      });
  }
  return out;
}

/** Remove the temp files that processes which died while writing left in `dir` (e.g. a cache folder). */
export function removeLeftoversIn(dir: string): string[] {
  return removeDead(leftovers('', dir));
}

/**
 * The folder to load for `target`: the target itself, or — when a save died between its two renames
 * (the old folder moved aside, the complete new one still under its temp name) — the new one. An
 * `.old-*` folder without its temp twin is an orphan of an earlier killed save, never loaded.
 */
export function loadable(target: string, isComplete: (dir: string) => boolean): string | null {
  const file = path.resolve(target);
  if (fs.existsSync(file)) return file;
  const found = leftovers(file);
  for (const old of found.filter((l) => l.kind === 'old')) {
    const twin = found.find((l) => l.kind === 'tmp' && l.id === old.id);
    if (twin && isComplete(twin.file)) return twin.file;
  }
  return null;
}

/**
 * Remove `.<name>.tmp-*` / `.<name>.old-*` left by processes that died while writing `target`
 * (a crash between a folder's two renames is first completed, so nothing is lost). Returns what was removed.
 */
export function removeLeftovers(target: string, isComplete?: (dir: string) => boolean): string[] {
  const file = path.resolve(target);
  const found = leftovers(file);
  if (!fs.existsSync(file) && isComplete) {
    const finish = loadable(file, isComplete);
    if (finish && finish !== file) {
      try {
        fs.renameSync(finish, file);
      } catch {
        // Someone else finished it, or the folder is read-only: leave it for loadable().
        return [];
      }
    }
  }
  return removeDead(found);
}

function removeDead(found: Leftover[]): string[] {
  const removed: string[] = [];
  for (const l of found.filter((f) => !pidAlive(f.pid))) {
    if (!fs.existsSync(l.file)) continue;
    try {
      fs.rmSync(l.file, { recursive: true, force: true });
      removed.push(l.file);
    } catch {
      // Read-only folder: the leftovers are harmless (never loaded).
    }
  }
  return removed;
}
