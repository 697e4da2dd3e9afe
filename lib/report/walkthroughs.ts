// The walkthroughs this project follows, as data: what each one ran (settings under the same names
// the notebooks' config cells use), on what, and the lesson it teaches. A notebook's first output
// compares its own settings with these (lib/report/disclosure.ts), and its conclusion says whether
// this run shows the lesson (lib/report/conclusion.ts), so no notebook types either into markdown.
import type { ConfigValue } from '../config';
import { PUBLISHED_RESULTS, type PublishedResults } from '../charts/table';

export interface Walkthrough {
  /** "ResNet50 transfer learning on Stanford Cars": for sentences. */
  title: string;
  /** The base, as the architecture registry names it. */
  arch: string;
  /** The dataset the walkthrough used, and the variable that points a notebook at it. */
  dataset: string;
  dataEnv: 'CARS_DIR' | 'GTSRB_DIR';
  classes: number;
  /** Images per class in each split, as the walkthrough had them (about, for Stanford Cars). */
  perClass: { train: number; validation: number; test: number };
  /** Its settings, under the notebooks' config names; a setting it did not use is null. */
  settings: Record<string, ConfigValue>;
  /** Settings a quick run may change without changing what the lesson is about (shown, not counted). */
  minor?: readonly string[];
  /** The lesson, as one clause: "…, as the walkthrough shows". */
  lesson: string;
  published: PublishedResults;
}

// Stanford Cars: 8,144 training and 8,041 test images of 196 classes; the walkthroughs hold out 20% of
// the training images for validation, so about 33 / 8 / 41 per class.
const CARS = { classes: 196, perClass: { train: 33, validation: 8, test: 41 } };

export const WALKTHROUGHS = {
  resnet50Cars: {
    title: 'ResNet50 transfer learning on Stanford Cars',
    arch: 'resnet50',
    dataset: 'Stanford Cars',
    dataEnv: 'CARS_DIR',
    ...CARS,
    settings: {
      imageSize: [224, 224],
      batchSize: 32,
      learningRate: 1e-3,
      labelSmoothing: 0.1,
      l2: 5e-4,
      dropout: 0.6,
      epochs: 100,
      earlyStopping: { patience: 8, minDelta: 1e-3 },
      reduceLr: { factor: 0.2, patience: 3, cooldown: 1, minLr: 1e-6 },
      cachedDraws: null,
    },
    minor: ['cachedDraws'],
    lesson:
      'a frozen pretrained base with a small new head learns to tell the classes apart from a few dozen images each',
    published: PUBLISHED_RESULTS.resnet50Cars,
  },
  inceptionV3Cars: {
    title: 'InceptionV3 two-phase fine-tuning on Stanford Cars',
    arch: 'inceptionv3',
    dataset: 'Stanford Cars',
    dataEnv: 'CARS_DIR',
    ...CARS,
    settings: {
      imageSize: [299, 299],
      batchSize: 32,
      learningRate: 3e-4,
      labelSmoothing: 0.1,
      l2: 1e-3,
      dropout: 0.5,
      headUnits: [512, 256],
      epochs: 100,
      fineTuneEpochs: 150,
      fineTuneLearningRate: 5e-7,
      freezeUpTo: 249,
      keepBatchNormFrozen: false,
      earlyStopping: { patience: 5, minDelta: 5e-4 },
      reduceLr: { factor: 0.5, patience: 3, cooldown: 1, minLr: 1e-6 },
      cachedDraws: null,
    },
    minor: ['cachedDraws'],
    lesson:
      'fine-tuning the top blocks at a small learning rate adds a little accuracy on top of transfer learning',
    published: PUBLISHED_RESULTS.inceptionV3Cars,
  },
  vgg16Gtsrb: {
    title: 'VGG16 fine-tuning against training from scratch on GTSRB, 40 images per class',
    arch: 'vgg16',
    dataset: 'GTSRB',
    dataEnv: 'GTSRB_DIR',
    classes: 43,
    // 40 per class split 28 / 12; the test images are GTSRB's official test set (about 294 per class).
    perClass: { train: 28, validation: 12, test: 294 },
    settings: {
      imageSize: [224, 224],
      batchSize: 32,
      learningRate: 1e-4,
      dropout: 0.6,
      fineTuneLayers: 8,
      fineTuneEpochs: 101,
      scratchEpochs: 101,
      earlyStopping: null,
      reduceLr: null,
    },
    lesson:
      'a pretrained base fine-tuned on 40 images per class beats the same network trained from scratch by a wide margin',
    published: PUBLISHED_RESULTS.vgg16Gtsrb,
  },
} satisfies Record<string, Walkthrough>;
