// Augmentation that keeps the label. An augmentation must not turn an image of one class into an
// image of another: on the generated stand-in, a horizontal flip mirrors the seven-segment glyph of
// a "2" into a "5" (and a "3" into no digit at all), so training would see a wrong label. The walkthrough's
// flip is right for its real data (a mirrored photo of a car is the same car model), so the flip
// is dropped only where the data's classes change under it, and one computed sentence says which.
import * as fs from 'node:fs';
import type { ImageDataGeneratorOptions } from './augment';
import type { DataFolders } from './sources';
import { mirroredGlyph, shapeIsSymmetric, syntheticClass } from './synthetic';

export interface LabelSafeAugmentation {
  /** The options to pass to `new ImageDataGenerator(...)`: the requested ones without label-changing flips. */
  options: ImageDataGeneratorOptions;
  /** The flips removed ('horizontalFlip', 'verticalFlip'); empty when all were kept. */
  dropped: ('horizontalFlip' | 'verticalFlip')[];
  /** One sentence for the reader: which flips are on or off on this data, and why. */
  note: string;
}

type Flip = 'horizontal' | 'vertical';
const OPTION = { horizontal: 'horizontalFlip', vertical: 'verticalFlip' } as const;

/** Number of class folders under the training folder (the generated classes are 0 … n − 1). */
function classCount(dir: string): number {
  if (!fs.existsSync(dir)) {
    throw new Error(
      `labelSafeAugmentation: the training folder ${dir} does not exist; pass the DataFolders that gtsrbFolders/carsFolders returned.`,
    );
  }
  return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
}

/** "1, 3 and 4" */
function list(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * For a flip of the generated signs: how many of the first `classes` classes change (their glyph
 * becomes another class's or none, or their shape turns), and how ("2 and 5 swap; 1 and 3 become
 * symbols no class has").
 */
function generatedFlipChanges(classes: number, flip: Flip): { changed: number; how: string } {
  const becomes = new Map<string, string>();
  const swaps = new Set<string>();
  const noClass = new Set<string>();
  let turned = false;
  let changed = 0;
  for (let k = 0; k < classes; k++) {
    const c = syntheticClass(k);
    const glyph = mirroredGlyph(c.glyph, flip);
    const shapeKept = shapeIsSymmetric(c.shape, flip);
    if (glyph === c.glyph && shapeKept) continue;
    changed++;
    if (!shapeKept) turned = true;
    if (glyph === null) noClass.add(c.glyph);
    else if (glyph !== c.glyph) becomes.set(c.glyph, glyph);
  }
  // "2 and 5 swap" when both are classes here, else "a 2 becomes a 5".
  for (const [from, to] of becomes)
    swaps.add(
      becomes.get(to) === from
        ? `${[from, to].sort().join(' and ')} swap`
        : `a ${from} becomes a ${to}`,
    );
  const parts = [
    ...[...swaps].sort(),
    ...(noClass.size
      ? [
          `${list([...noClass].sort())} ${noClass.size > 1 ? 'become symbols' : 'becomes a symbol'} no class has`,
        ]
      : []),
    ...(turned ? ['triangles point down'] : []),
  ];
  return { changed, how: parts.join('; ') };
}

/** The flips the augmentation options ask for. */
const askedFlips = (requested: ImageDataGeneratorOptions): Flip[] =>
  (['horizontal', 'vertical'] as const).filter((f) => requested[OPTION[f]]);

/**
 * The requested flips that labelSafeAugmentation turns off on `classes` generated classes, with how
 * many classes each would change: what the disclosure lists before any data is generated.
 */
export function flipsOffOnGenerated(
  requested: ImageDataGeneratorOptions,
  classes: number,
): { flip: Flip; changed: number }[] {
  return askedFlips(requested)
    .map((flip) => ({ flip, changed: generatedFlipChanges(classes, flip).changed }))
    .filter((f) => f.changed > 0);
}

const capitalise = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
const ENV = { cars: 'CARS_DIR', gtsrb: 'GTSRB_DIR' } as const;

/**
 * The requested augmentation without the flips that change a class on this data, and a sentence
 * saying which flips are on or off and why. Real data keeps the request (the notebook's setting is
 * the walkthrough's); the generated stand-in drops a flip when mirroring changes any of its classes.
 *
 *   const augmentation = nb.labelSafeAugmentation(cfg.augmentation, data);
 *   const trainGen = new nb.ImageDataGenerator(augmentation.options);
 */
export function labelSafeAugmentation(
  requested: ImageDataGeneratorOptions,
  data: Pick<DataFolders, 'source' | 'dataset' | 'trainDir'>,
): LabelSafeAugmentation {
  const asked = askedFlips(requested);
  if (data.source === 'real') {
    const note = !asked.length
      ? 'No flip is requested: every augmentation keeps the class.'
      : `${capitalise(list(asked.map((f) => `${f} flip`)))} ${asked.length > 1 ? 'are' : 'is'} on` +
        (data.dataset === 'cars'
          ? ': a mirrored photo of a car shows the same car model.'
          : ', but some traffic signs change class when mirrored (turn left ↔ turn right): switch it off in the augmentation settings unless every class is mirror-symmetric.');
    return { options: { ...requested }, dropped: [], note };
  }
  if (!asked.length) {
    return {
      options: { ...requested },
      dropped: [],
      note: 'No flip is requested: every augmentation keeps the class of the generated images.',
    };
  }
  const classes = classCount(data.trainDir);
  const options: ImageDataGeneratorOptions = { ...requested };
  const dropped: LabelSafeAugmentation['dropped'] = [];
  const sentences: string[] = [];
  for (const flip of asked) {
    const { changed, how } = generatedFlipChanges(classes, flip);
    if (changed) {
      options[OPTION[flip]] = false;
      dropped.push(OPTION[flip]);
      sentences.push(
        `${capitalise(flip)} flip is off on the generated data: mirrored, ${changed} of its ${classes} classes ${changed > 1 ? 'change' : 'changes'} (${how}), so a flipped image would carry a wrong label. With real photos (${ENV[data.dataset]}) the setting applies as written.`,
      );
    } else {
      sentences.push(
        `${capitalise(flip)} flip stays on: each of the ${classes} generated classes looks the same mirrored.`,
      );
    }
  }
  return { options, dropped, note: sentences.join(' ') };
}
