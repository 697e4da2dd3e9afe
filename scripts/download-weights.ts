// `npm run download-weights -- vgg16 resnet50 inceptionv3 [--top]`: fetch Keras' ImageNet weights
// into the Keras cache ($KERAS_HOME/models or ~/.keras/models) ahead of time, e.g. before going
// offline. Files are md5-checked, resumable and placed atomically; ones already cached are kept.
import {
  getKerasWeights,
  kerasWeightsLocation,
  type KerasApplicationName,
} from '../lib/models/weights';

const NAMES: Record<string, KerasApplicationName> = {
  vgg16: 'vgg16',
  resnet50: 'resnet50',
  inceptionv3: 'inceptionv3',
  inception_v3: 'inceptionv3',
  inceptionV3: 'inceptionv3',
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const withTop = args.includes('--top');
  const wanted = args.filter((a) => !a.startsWith('--'));
  if (wanted.length === 0 || args.includes('--help')) {
    console.log(
      'usage: npm run download-weights -- vgg16|resnet50|inceptionv3 [...] [--top]\n' +
        '  --top  the files with the 1000-class classifier (default: without top, what transfer learning uses)\n' +
        '  KERAS_HOME=<dir> puts them in <dir>/models instead of ~/.keras/models',
    );
    process.exit(wanted.length === 0 && !args.includes('--help') ? 2 : 0);
  }
  let failed = 0;
  for (const w of wanted) {
    const app = NAMES[w] ?? NAMES[w.toLowerCase()];
    if (!app) {
      console.error(`Unknown model "${w}". Choose from: vgg16, resnet50, inceptionv3.`);
      failed++;
      continue;
    }
    const loc = kerasWeightsLocation(app, withTop);
    try {
      const file = await getKerasWeights(app, withTop);
      console.log(`${app}: ${file} (md5 ${loc.md5} verified)`);
    } catch (e) {
      console.error((e as Error).message);
      failed++;
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
