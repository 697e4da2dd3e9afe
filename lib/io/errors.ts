// File system errors turned into messages that name the file and say what to do.

/** What to tell the user for the error codes a save or a download meets in practice. */
const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free some space (or write to another folder) and run again',
  EDQUOT: 'the disk quota is used up: free some space (or write to another folder) and run again',
  EFBIG:
    'the file is larger than this process may write (ulimit -f) or the file system allows: raise the limit or write elsewhere',
  EACCES: 'permission denied: make the folder writable (chmod/chown) or choose another path',
  EPERM: 'operation not permitted: make the folder writable or choose another path',
  EROFS: 'the file system is read-only: choose a folder on a writable disk',
  EEXIST: 'something else already exists at that path: delete or rename it, or choose another path',
  ENOTDIR: 'a part of the path is a file, not a folder: fix the path',
  EISDIR: 'that path is a folder, not a file: choose a file name',
  EMFILE: 'too many open files: close other programs or raise ulimit -n',
  ENOENT: 'a folder on the path does not exist: create it or fix the path',
};

export interface IoError extends Error {
  code?: string;
  file: string;
}

/**
 * Wrap a low-level error (ENOSPC, EACCES, …) in one whose message names `file`, what was being done
 * and what to do; the original stays as `cause` and its `code` is kept.
 */
export function ioError(e: unknown, file: string, doing = 'write', note = ''): IoError {
  const err = e as NodeJS.ErrnoException;
  if ((err as IoError)?.file === file) return err as IoError; // already explained
  const code = err?.code;
  const advice = code ? ADVICE[code] : undefined;
  const what = err?.message ?? String(e);
  const out = new Error(
    `Could not ${doing} ${file}: ${advice ?? what}${advice ? ` (${code})` : ''}.${note ? ` ${note}` : ''}`,
    { cause: e },
  ) as IoError;
  out.code = code;
  out.file = file;
  return out;
}
