// `npm run download-weights -- vgg16 resnet50 inceptionv3 [--top]`: fetch Keras' ImageNet weights
// into the Keras cache ($KERAS_HOME/models or ~/.keras/models) ahead of time, e.g. before going
// offline. Files are md5-checked, resumable and placed atomically; ones already cached are kept.
// Which bases and files exist is the registry's (lib/models/architectures.ts); nothing is listed here.
import { getKerasWeights, kerasWeightsLocation } from '../lib/models/weights';
import { architecture, architectures, type Architecture } from '../lib/models/architectures';

/** What `download-weights` fetches for these names: the base, its file, URL and md5. */
export function downloadList(names: string[], withTop = false) {
  return names.map((name) => {
    const arch: Architecture = architecture(name);
    return { arch, ...kerasWeightsLocation(arch, withTop) };
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const withTop = args.includes('--top');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const names = architectures()
    .map((a) => a.name)
    .join('|');
  if (wanted.length === 0 || args.includes('--help')) {
    console.log(
      `usage: npm run download-weights -- ${names} [...] [--top]\n` +
        '  --top  the files with the 1000-class classifier (default: without top, what transfer learning uses)\n' +
        '  KERAS_HOME=<dir> puts them in <dir>/models instead of ~/.keras/models',
    );
    process.exit(wanted.length === 0 && !args.includes('--help') ? 2 : 0);
  }
  let failed = 0;
  for (const w of wanted) {
    let item;
    try {
      [item] = downloadList([w], withTop);
    } catch (e) {
      console.error((e as Error).message);
      failed++;
      continue;
    }
    try {
      const file = await getKerasWeights(item.arch, withTop);
      console.log(`${item.arch.name}: ${file} (md5 ${item.md5} verified)`);
    } catch (e) {
      console.error((e as Error).message);
      failed++;
    }
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) void main();
