// Shared test helpers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
/** `../shared` beside the project (present for developers and CI, absent on a newcomer's machine). */
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const GTSRB40 = path.join(SHARED, 'data', 'gtsrb-40');
export const CARS_DEVKIT = path.join(SHARED, 'data', 'stanford-cars-devkit');

/** For `test(name, { skip: skipUnless(dir) }, ...)`: a skip message when the folder is absent. */
export function skipUnless(dir: string): string | false {
  return fs.existsSync(dir) ? false : `needs ${dir} (real data, absent on this machine)`;
}

export function tmpDir(prefix = 'nbtest-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
