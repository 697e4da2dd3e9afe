// Folder datasets: Keras' image_dataset_from_directory and ImageDataGenerator.flow_from_directory.
// One sub-folder per class; class order is the given list, or the folder names sorted as strings
// ('0', '1', '10', '11', ... for GTSRB: the walkthrough's pitfall, kept on purpose for parity).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset, ImageSize, LabelMode } from './types';
import { createImageDataset, type ImageLoadOptions } from './dataset';
import { isImageFile, IMAGE_EXTENSIONS } from './decode';
import { rngFor, shuffled } from '../rng';
import { checkClassNames, compareCodePoints } from './names';
import { printDatasetSummary, summarizeDataset } from './summary';

export type Subset = 'training' | 'validation';

export interface ImageDatasetFromDirectoryOptions extends ImageLoadOptions {
  /** Explicit class order (Keras `class_names`); must match the sub-folders exactly. */
  classNames?: string[] | null;
  /** 'int' (default), 'categorical' (one-hot) or null (no targets). */
  labelMode?: LabelMode;
  /** Fraction of files held out; pick the half with `subset` (needs a seed when shuffling). */
  validationSplit?: number | null;
  subset?: Subset | null;
  /**
   * Split each class separately (stratified; not in Keras, whose split is over the whole shuffled
   * list), so a small class is in both subsets in proportion. Default false (Keras).
   */
  stratify?: boolean;
  /** Enter linked sub-folders inside a class (os.walk's followlinks); linked class folders are always read. */
  followLinks?: boolean;
}

export type ClassMode = 'categorical' | 'sparse' | 'input' | null;

export interface FlowFromDirectoryOptions extends ImageLoadOptions {
  /** Keras `target_size`, default [256, 256]. */
  targetSize?: ImageSize;
  /** Explicit class order (Keras `classes`): only these sub-folders are read. */
  classes?: string[] | null;
  /** 'categorical' (default, one-hot), 'sparse' (int), 'input' (target = image), null (no targets). */
  classMode?: ClassMode;
  validationSplit?: number | null;
  subset?: Subset | null;
  followLinks?: boolean;
}

/** What a folder listing left out, and why: the summary line and the warnings report it. */
export interface ListingSkips {
  /** Hidden files and folders (names starting with '.'): AppleDouble `._IMG_0001.JPG`, `.DS_Store`, `.thumbnails/`. */
  hidden: string[];
  /** Files without an image extension (`notes.txt`, `Thumbs.db`, `IMG_0002.HEIC`). */
  notImages: string[];
  /** Links whose target does not exist (named in a warning). */
  danglingLinks: string[];
  /** Linked folders that lead back to a folder above them (not followed twice; named in a warning). */
  loops: string[];
  /** Linked sub-folders inside a class, not followed since followLinks is false (as Keras). */
  unfollowedLinks: string[];
}

export interface Listing {
  classNames: string[];
  /** Per class, its image files (absolute, in Keras' order). */
  perClass: string[][];
  skips: ListingSkips;
}

const emptySkips = (): ListingSkips => ({
  hidden: [],
  notImages: [],
  danglingLinks: [],
  loops: [],
  unfollowedLinks: [],
});

/** stat that follows links; null for a dangling link (or a link that points at itself). */
function statFollow(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return null;
    throw e;
  }
}

function linkTarget(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '?';
  }
}

/** One entry of a folder: what it is once links are followed. */
function kindOf(dir: string, e: fs.Dirent): { kind: 'dir' | 'file' | 'dangling'; link: boolean } {
  const p = path.join(dir, e.name);
  if (e.isSymbolicLink()) {
    const st = statFollow(p);
    return { kind: st ? (st.isDirectory() ? 'dir' : 'file') : 'dangling', link: true };
  }
  return { kind: e.isDirectory() ? 'dir' : 'file', link: false };
}

/**
 * List class folders and their images as Keras' `index_directory` does: class folders are the
 * sub-folders whose names do not start with '.', in Python's `sorted()` order; a linked class folder
 * counts (Keras' os.path.isdir follows links). Hidden files (macOS' AppleDouble `._*` copies are not
 * images) are skipped and counted, dangling links and link loops are named in a warning.
 */
export function listClassFolders(
  dir: string,
  classes: string[] | null | undefined,
  exact: boolean,
  followLinks = false,
  where = 'imageDatasetFromDirectory',
): Listing {
  const root = path.resolve(dir);
  const rootStat = statFollow(root);
  if (!rootStat) {
    throw new Error(
      `Image folder not found: ${root}. Check the path, or prepare the data first: npm run prepare-gtsrb / npm run prepare-cars (the real datasets), or gtsrbFolders() / carsFolders(), which generate a synthetic stand-in when a dataset is absent.`,
    );
  }
  if (!rootStat.isDirectory())
    throw new Error(`${root} is a file; pass the folder that holds one sub-folder per class.`);
  const skips = emptySkips();
  const folders: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    const { kind } = kindOf(root, e);
    if (kind === 'dangling') skips.danglingLinks.push(p);
    else if (e.name.startsWith('.')) skips.hidden.push(p);
    else if (kind === 'dir') folders.push(e.name);
  }
  folders.sort(compareCodePoints); // Python's sorted(os.listdir(...)), as Keras
  if (!folders.length) {
    throw new Error(
      `No class sub-folders in ${root}: expected one folder per class, e.g. ${path.join(root, '<class name>', 'image.png')}.`,
    );
  }
  let classNames = folders;
  if (classes && classes.length) {
    checkClassNames(classes, `${where}(${root})`, 'Pass each class once, spelled as its folder.');
    const missing = classes.filter((c) => !folders.includes(c));
    const extra = folders.filter((f) => !classes.includes(f));
    if (missing.length || (exact && extra.length)) {
      throw new Error(
        `The class list does not match the sub-folders of ${root}: ` +
          (missing.length
            ? `no folder for ${missing
                .slice(0, 5)
                .map((m) => `'${m}'`)
                .join(', ')}${missing.length > 5 ? ` (+${missing.length - 5} more)` : ''}`
            : '') +
          (missing.length && exact && extra.length ? '; ' : '') +
          (exact && extra.length
            ? `folders not in the list: ${extra
                .slice(0, 5)
                .map((m) => `'${m}'`)
                .join(', ')}`
            : '') +
          `. Pass the exact folder names (found: ${folders.slice(0, 8).join(', ')}${folders.length > 8 ? ', ...' : ''}) or fix the folders.`,
      );
    }
    classNames = classes.slice();
  }
  const perClass = classNames.map((c) => {
    const files = walkImages(path.join(root, c), followLinks, skips);
    if (!files.length) {
      throw new Error(
        `Class folder ${path.join(root, c)} has no images (looked for ${IMAGE_EXTENSIONS.join(' ')}). Add images or remove the folder.`,
      );
    }
    return files;
  });
  for (const l of skips.danglingLinks)
    console.warn(
      `${where}: ${l} is a link to ${linkTarget(l)}, which does not exist; left out. Fix or delete the link.`,
    );
  for (const l of skips.loops)
    console.warn(
      `${where}: ${l} links back to a folder above it (${fs.realpathSync(l)}); not followed again. Delete the link or point it elsewhere.`,
    );
  return { classNames, perClass, skips };
}

/**
 * Image files under a class folder in Keras' order (`iter_valid_files`): os.walk's folders sorted by
 * their path, then each folder's files sorted by name, so all of a folder's own files come before
 * its sub-folders' and 'a-b/' comes before 'a/x' ('-' < '/'). Linked sub-folders are entered only
 * with followLinks (os.walk's followlinks); a link back to a folder above is a loop and skipped.
 */
function walkImages(classDir: string, followLinks: boolean, skips: ListingSkips): string[] {
  const folders: { rel: string; files: string[] }[] = [];
  const visit = (dir: string, rel: string, ancestors: Set<string>) => {
    const files: string[] = [];
    folders.push({ rel, files });
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const { kind, link } = kindOf(dir, e);
      if (kind === 'dangling') skips.danglingLinks.push(p);
      else if (e.name.startsWith('.')) skips.hidden.push(p);
      else if (kind === 'dir') {
        if (link && !followLinks) {
          skips.unfollowedLinks.push(p);
          continue;
        }
        const real = fs.realpathSync(p);
        if (ancestors.has(real)) {
          skips.loops.push(p);
          continue;
        }
        visit(p, rel ? `${rel}/${e.name}` : e.name, new Set([...ancestors, real]));
      } else if (isImageFile(e.name)) files.push(e.name);
      else skips.notImages.push(p);
    }
  };
  visit(classDir, '', new Set([fs.realpathSync(classDir)]));
  folders.sort((a, b) => compareCodePoints(a.rel, b.rel));
  return folders.flatMap((f) =>
    f.files.sort(compareCodePoints).map((name) => path.join(classDir, f.rel, name)),
  );
}

/**
 * The training or validation part of a file list. Keras (`image_dataset_from_directory`): shuffle
 * the whole list once with the seed, the last `floor(validationSplit × n)` files are validation.
 * Stratified: the same per class (each class's files shuffled with the seed, the last
 * `floor(validationSplit × n_class)` held out), so every class is in both parts in proportion;
 * Keras' split can leave a small class out of the validation part entirely.
 */
export function splitItems<T extends { label: number }>(
  items: T[],
  o: {
    validationSplit: number;
    subset: Subset;
    seed?: number;
    shuffle?: boolean;
    stratify?: boolean;
  },
): T[] {
  const take = (list: T[], rng: () => number) => {
    const order = (o.shuffle ?? true) ? shuffled(list, rng) : list;
    const numVal = Math.floor(o.validationSplit * order.length);
    return o.subset === 'training'
      ? order.slice(0, order.length - numVal)
      : order.slice(order.length - numVal);
  };
  if (!o.stratify) return take(items, rngFor(o.seed ?? 0, -1, 0x59117));
  const labels = [...new Set(items.map((i) => i.label))].sort((a, b) => a - b);
  return labels.flatMap((l) =>
    take(
      items.filter((i) => i.label === l),
      rngFor(o.seed ?? 0, -1 - l, 0x57a7),
    ),
  );
}

export function checkSplit(
  validationSplit: number | null | undefined,
  subset: Subset | null | undefined,
  where: string,
) {
  if (validationSplit == null || validationSplit === 0) {
    if (subset) throw new Error(`${where}: subset '${subset}' needs validationSplit (e.g. 0.2).`);
    return false;
  }
  if (!(validationSplit > 0 && validationSplit < 1))
    throw new Error(`${where}: validationSplit must be between 0 and 1, got ${validationSplit}.`);
  if (subset !== 'training' && subset !== 'validation')
    throw new Error(`${where}: with validationSplit, pass subset: 'training' or 'validation'.`);
  return true;
}

/**
 * Keras `image_dataset_from_directory`: images from `dir/<class>/...`, resized (bilinear) to
 * imageSize (default [256, 256]), int labels by default, shuffled per epoch.
 */
export function imageDatasetFromDirectory(
  dir: string,
  opts: ImageDatasetFromDirectoryOptions = {},
): ImageDataset {
  const split = checkSplit(opts.validationSplit, opts.subset, 'imageDatasetFromDirectory');
  const shuffle = opts.shuffle ?? true;
  if (split && shuffle && opts.seed === undefined) {
    throw new Error(
      'imageDatasetFromDirectory: with validationSplit and shuffle, pass a seed so training and validation subsets do not overlap (as Keras requires).',
    );
  }
  const { classNames, perClass, skips } = listClassFolders(
    dir,
    opts.classNames,
    true,
    opts.followLinks,
  );
  let items = perClass.flatMap((files, label) => files.map((file) => ({ file, label })));
  const total = items.length;
  if (split)
    items = splitItems(items, {
      validationSplit: opts.validationSplit!,
      subset: opts.subset!,
      seed: opts.seed,
      shuffle,
      stratify: opts.stratify,
    });
  if (opts.verbose ?? true) {
    console.log(`Found ${total} files belonging to ${classNames.length} classes.`);
    if (split) console.log(`Using ${items.length} files for ${opts.subset}.`);
  }
  const labelMode = opts.labelMode === undefined ? 'int' : opts.labelMode;
  if (labelMode !== 'int' && labelMode !== 'categorical' && labelMode !== null) {
    throw new Error(
      `imageDatasetFromDirectory: labelMode must be 'int', 'categorical' or null, got '${labelMode}'.`,
    );
  }
  const ds = createImageDataset(
    {
      files: items.map((i) => i.file),
      labels: items.map((i) => i.label),
      classNames,
      labelMode,
      defaultImageSize: [256, 256],
      defaultInterpolation: 'bilinear',
    },
    { ...opts, shuffle },
  );
  summarize(ds, skips, opts.verbose);
  return ds;
}

/**
 * Keras `ImageDataGenerator(...).flow_from_directory`: targetSize (default [256, 256]), classMode
 * 'categorical' by default, nearest-neighbour resize like Keras' load_img; the validation split
 * takes the first fraction of each class's sorted files.
 */
export function flowFromDirectory(dir: string, opts: FlowFromDirectoryOptions = {}): ImageDataset {
  const split = checkSplit(opts.validationSplit, opts.subset, 'flowFromDirectory');
  const { classNames, perClass, skips } = listClassFolders(
    dir,
    opts.classes,
    false,
    opts.followLinks,
    'flowFromDirectory',
  );
  const files: string[] = [];
  const labels: number[] = [];
  perClass.forEach((list, label) => {
    let chosen = list;
    if (split) {
      const cut = Math.floor(opts.validationSplit! * list.length);
      chosen = opts.subset === 'validation' ? list.slice(0, cut) : list.slice(cut);
    }
    for (const f of chosen) {
      files.push(f);
      labels.push(label);
    }
  });
  const classMode = opts.classMode === undefined ? 'categorical' : opts.classMode;
  if (!['categorical', 'sparse', 'input', null].includes(classMode)) {
    throw new Error(
      `flowFromDirectory: classMode must be 'categorical', 'sparse', 'input' or null, got '${classMode}'.`,
    );
  }
  if (opts.verbose ?? true)
    console.log(`Found ${files.length} images belonging to ${classNames.length} classes.`);
  const labelMode: LabelMode =
    classMode === 'categorical' ? 'categorical' : classMode === 'sparse' ? 'int' : null;
  const ds = createImageDataset(
    {
      files,
      labels,
      classNames,
      labelMode,
      targetIsInput: classMode === 'input',
      defaultImageSize: opts.targetSize ?? [256, 256],
      defaultInterpolation: 'nearest',
    },
    { ...opts, imageSize: opts.imageSize ?? opts.targetSize },
  );
  summarize(ds, skips, opts.verbose);
  return ds;
}

/** The dataset's summary line (after Keras' "Found ..." line). */
function summarize(ds: ImageDataset, skips: ListingSkips, verbose: boolean | undefined): void {
  if (verbose === false) return;
  printDatasetSummary(
    summarizeDataset(ds.files, ds.labels, ds.classNames, skips, ds.exifTranspose),
    verbose,
  );
}
