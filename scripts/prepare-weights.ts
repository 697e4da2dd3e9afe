// `npm run prepare-weights`: give each base of the quick profile the best weights this machine can
// have, before the notebooks run — Keras' ImageNet files when cached or downloadable, otherwise the
// one-time pretext pretraining on generated data (lib/models/pretext.ts), with progress. Later runs
// find everything cached and return at once. NB_OFFLINE=1 skips the network.
import { initBackend } from '../lib/backend/index';
import { resolveAutoWeights } from '../lib/models/choose-weights';
import { ARCHITECTURES, type ArchitectureName } from '../lib/models/architectures';
import { QUICK_PROFILE_SIZES } from '../lib/models/pretext';

export async function prepareWeights(
  log: (s: string) => void = console.log,
): Promise<Record<ArchitectureName, string>> {
  await initBackend();
  const out = {} as Record<ArchitectureName, string>;
  for (const app of Object.keys(ARCHITECTURES) as ArchitectureName[]) {
    const t0 = Date.now();
    const w = await resolveAutoWeights(app, QUICK_PROFILE_SIZES[app]);
    out[app] = w.origin;
    log(
      `weights ${app.padEnd(11)} ${w.origin === 'imagenet' ? 'ImageNet' : 'pretext stand-in (generated data)'}  ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s  ${w.file}`,
    );
  }
  return out;
}

if (require.main === module) {
  prepareWeights().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
