// Build a dataset folder so that a crash never leaves something that looks complete: everything is
// written into a temp folder beside the target, a marker file is written last, then it is swapped in
// (lib/io's replaceAtomically).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeLeftovers, replaceAtomically, writeFileSynced } from '../../io/atomic';

export const COMPLETE_MARKER = '.dataset-complete.json';

/** The marker's content when `dir` is a completely prepared dataset, else null. */
export function readCompleteMarker(dir: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, COMPLETE_MARKER), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return null;
  }
}

export function isCompleteDataset(dir: string): boolean {
  return readCompleteMarker(dir) !== null;
}

/**
 * Run `build(tmpDir)` and move the result to `target`. Fails (without touching it) when `target`
 * exists and is not one of our complete datasets, unless `overwrite`. Leftover temp folders from
 * a crashed run are removed first.
 */
export async function buildAtomically(
  target: string,
  marker: Record<string, unknown>,
  build: (tmp: string) => Promise<void>,
  overwrite = false,
): Promise<void> {
  target = path.resolve(target);
  removeLeftovers(target); // temp folders of a crashed run
  if (fs.existsSync(target) && !overwrite) {
    throw new Error(
      isCompleteDataset(target)
        ? `${target} already holds a prepared dataset with other settings; delete it or pass overwrite: true.`
        : `${target} exists but is not a complete prepared dataset (no ${COMPLETE_MARKER}); delete it or choose another folder.`,
    );
  }
  await replaceAtomically(
    target,
    async (tmp) => {
      await build(tmp);
      writeFileSynced(
        path.join(tmp, COMPLETE_MARKER),
        JSON.stringify({ ...marker, completedAt: new Date().toISOString() }, null, 2),
      );
    },
    { directory: true },
  );
}

/** Same options as the marker (ignoring completedAt)? */
export function markerMatches(dir: string, marker: Record<string, unknown>): boolean {
  const m = readCompleteMarker(dir);
  if (!m) return false;
  return Object.entries(marker).every(([k, v]) => JSON.stringify(m[k]) === JSON.stringify(v));
}
