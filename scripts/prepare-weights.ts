// `npm run prepare-weights`: give each base of the quick profile the best weights this machine can
// have, before the notebooks run — Keras' ImageNet files when cached or downloadable, otherwise the
// one-time pretext pretraining on generated data (lib/models/pretext.ts), with progress. Later runs
// find everything cached and return at once. NB_OFFLINE=1 skips the network. The bases and their
// quick-profile sizes are the registry's (lib/models/architectures.ts).
import { initBackend } from '../lib/backend/index';
import { resolveAutoWeights } from '../lib/models/choose-weights';
import { architectures } from '../lib/models/architectures';

export async function prepareWeights(
  log: (s: string) => void = console.log,
): Promise<Record<string, string>> {
  await initBackend();
  const out: Record<string, string> = {};
  for (const arch of architectures()) {
    const t0 = Date.now();
    const w = await resolveAutoWeights(arch, arch.standIn.quickSize);
    out[arch.name] = w.origin;
    log(
      `weights ${arch.name.padEnd(11)} ${w.origin === 'imagenet' ? 'ImageNet' : 'pretext stand-in (generated data)'}  ` +
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
