// Folder datasets: Keras' image_dataset_from_directory and ImageDataGenerator.flow_from_directory.
// One sub-folder per class; class order is the given list, or the folder names sorted as strings
// ('0', '1', '10', '11', ... for GTSRB: the walkthrough's pitfall, kept on purpose for parity).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset, ImageSize, LabelMode } from './types';
import { createImageDataset, type ImageLoadOptions } from './dataset';
import { isImageFile, IMAGE_EXTENSIONS } from './decode';
import { rngFor, shuffled } from '../rng';

export type Subset = 'training' | 'validation';

export interface ImageDatasetFromDirectoryOptions extends ImageLoadOptions {
  /** Explicit class order (Keras `class_names`); must match the sub-folders exactly. */
  classNames?: string[] | null;
  /** 'int' (default), 'categorical' (one-hot) or null (no targets). */
  labelMode?: LabelMode;
  /** Fraction of files held out; pick the half with `subset` (needs a seed when shuffling). */
  validationSplit?: number | null;
  subset?: Subset | null;
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

interface Listing {
  classNames: string[];
  /** Per class, its image files (absolute, sorted). */
  perClass: string[][];
}

/** List class folders and their images, with the errors a newcomer needs. */
export function listClassFolders(
  dir: string,
  classes: string[] | null | undefined,
  exact: boolean,
  followLinks = false,
): Listing {
  const root = path.resolve(dir);
  if (!fs.existsSync(root)) {
    throw new Error(
      `Image folder not found: ${root}. Check the path, or prepare the data first: npm run prepare-gtsrb / npm run prepare-cars (the real datasets), or gtsrbFolders() / carsFolders(), which generate a synthetic stand-in when a dataset is absent.`,
    );
  }
  if (!fs.statSync(root).isDirectory())
    throw new Error(`${root} is a file; pass the folder that holds one sub-folder per class.`);
  const folders = fs
    .readdirSync(root, { withFileTypes: true })
    .filter(
      (e) =>
        e.isDirectory() ||
        (followLinks && e.isSymbolicLink() && fs.statSync(path.join(root, e.name)).isDirectory()),
    )
    .map((e) => e.name)
    .filter((n) => !n.startsWith('.'))
    .sort(); // string order, as Keras
  if (!folders.length) {
    throw new Error(
      `No class sub-folders in ${root}: expected one folder per class, e.g. ${path.join(root, '<class name>', 'image.png')}.`,
    );
  }
  let classNames = folders;
  if (classes && classes.length) {
    const missing = classes.filter((c) => !folders.includes(c));
    const extra = folders.filter((f) => !classes.includes(f));
    if (new Set(classes).size !== classes.length)
      throw new Error(`The class list has duplicates: ${JSON.stringify(classes)}.`);
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
    const files = walkImages(path.join(root, c), followLinks);
    if (!files.length) {
      throw new Error(
        `Class folder ${path.join(root, c)} has no images (looked for ${IMAGE_EXTENSIONS.join(' ')}). Add images or remove the folder.`,
      );
    }
    return files;
  });
  return { classNames, perClass };
}

/** Image files under a folder, recursively, sorted (Keras also descends into sub-folders). */
function walkImages(dir: string, followLinks: boolean): string[] {
  const out: string[] = [];
  const entries = fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() || (followLinks && e.isSymbolicLink() && fs.statSync(p).isDirectory()))
      out.push(...walkImages(p, followLinks));
    else if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) out.push(p);
  }
  return out;
}

function checkSplit(
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
  const { classNames, perClass } = listClassFolders(dir, opts.classNames, true, opts.followLinks);
  let items = perClass.flatMap((files, label) => files.map((file) => ({ file, label })));
  const total = items.length;
  if (split) {
    // Keras shuffles the file list once with the seed, then takes the last fraction as validation.
    if (shuffle) items = shuffled(items, rngFor(opts.seed!, -1, 0x59117));
    const numVal = Math.floor(opts.validationSplit! * items.length);
    items =
      opts.subset === 'training'
        ? items.slice(0, items.length - numVal)
        : items.slice(items.length - numVal);
  }
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
  return createImageDataset(
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
}

/**
 * Keras `ImageDataGenerator(...).flow_from_directory`: targetSize (default [256, 256]), classMode
 * 'categorical' by default, nearest-neighbour resize like Keras' load_img; the validation split
 * takes the first fraction of each class's sorted files.
 */
export function flowFromDirectory(dir: string, opts: FlowFromDirectoryOptions = {}): ImageDataset {
  const split = checkSplit(opts.validationSplit, opts.subset, 'flowFromDirectory');
  const { classNames, perClass } = listClassFolders(dir, opts.classes, false, opts.followLinks);
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
  return createImageDataset(
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
}
