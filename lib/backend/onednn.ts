// The 'onednn' tfjs backend: the cpu backend (same data store, same 170 kernels) with the
// hot kernels (convolutions and their gradients, matmuls, pooling, batch norm) replaced by
// oneDNN primitives from the native addon in native/.
import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadOnednnAddon } from './onednn-addon';
import { onednnKernels } from './onednn-kernels';
import { OnednnOutputPool } from './onednn-pool';
import { onOpDeterminism } from '../seed';

export const ONEDNN_BACKEND = 'onednn';
/** Below tfjs-node's 'tensorflow' (3), above 'wasm' (2) and 'cpu' (1). */
export const ONEDNN_PRIORITY = 2.5;

/** What the native side runs on; `impls` fills in as primitives are created. */
export interface OnednnInfo {
  available: boolean;
  reason?: string;
  version?: string;
  runtime?: string;
  threads?: number;
  isa?: string;
  impls?: Record<string, string>;
  /** Calls per path where the addon chooses between its own implementations. */
  paths?: Record<string, number>;
  /** Kernel names served by oneDNN (the rest run the cpu backend's JS). */
  nativeKernels?: string[];
}

/**
 * Cap on the recycled output arrays kept free: ONEDNN_POOL_MB, default a quarter of RAM (a
 * training step's activations all die at once and the next step wants them back); 0 = off.
 */
function poolLimitBytes(): number {
  const fallback = Math.floor(os.totalmem() / 4);
  const env = process.env.ONEDNN_POOL_MB;
  const mb = env === undefined ? NaN : Number(env);
  return Number.isFinite(mb) && mb >= 0 ? mb * 2 ** 20 : fallback;
}

let registered: { ok: true } | { ok: false; reason: string } | undefined;
let nativeKernelNames: string[] = [];

/**
 * Registers the 'onednn' backend (idempotent). Returns why not when the addon is unusable;
 * then nothing is registered and the caller falls back (wasm).
 */
export function registerOnednnBackend(): { ok: true } | { ok: false; reason: string } {
  if (registered) return registered;
  const loaded = loadOnednnAddon();
  if ('error' in loaded) return (registered = { ok: false, reason: loaded.error });
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory)
    return (registered = {
      ok: false,
      reason: "tfjs 'cpu' backend is not registered (import @tensorflow/tfjs first)",
    });
  const addon = loaded.addon;
  try {
    addon.info(); // fails here, not mid-model, if the library is broken
  } catch (e) {
    return (registered = { ok: false, reason: `oneDNN addon unusable: ${(e as Error).message}` });
  }

  onOpDeterminism((on) => addon.setDeterministic(on)); // a seed makes runs reproducible
  const pools = new WeakMap<MathBackendCPU, OnednnOutputPool>();
  const poolOf = (b: MathBackendCPU) => {
    let p = pools.get(b);
    if (!p) pools.set(b, (p = new OnednnOutputPool(0))); // a foreign instance: no recycling
    return p;
  };
  tf.registerBackend(
    ONEDNN_BACKEND,
    () => {
      const backend = cpuFactory() as MathBackendCPU;
      // The cpu backend greets Node users with "install tfjs-node" once; we are the fast path.
      (backend as unknown as { firstUse: boolean }).firstUse = false;
      const pool = new OnednnOutputPool(poolLimitBytes());
      pool.attach(backend);
      pools.set(backend, pool);
      return backend;
    },
    ONEDNN_PRIORITY,
  );

  const native = onednnKernels(addon, poolOf);
  for (const config of tf.getKernelsForBackend('cpu')) {
    const impl = native[config.kernelName];
    if (!impl) {
      tf.registerKernel({ ...config, backendName: ONEDNN_BACKEND });
      continue;
    }
    const cpuKernel = config.kernelFunc;
    tf.registerKernel({
      ...config,
      backendName: ONEDNN_BACKEND,
      kernelFunc: (args) => impl(args as never, () => cpuKernel(args)),
    });
  }
  // Kernels of our own (no cpu counterpart): registered on 'onednn' alone; callers check for them.
  for (const [name, impl] of Object.entries(native)) {
    if (tf.getKernel(name, 'cpu')) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: ONEDNN_BACKEND,
      kernelFunc: (args) =>
        impl(args as never, () => {
          throw new Error(
            `onednn kernel ${name}: inputs it cannot take (float32 tensors expected)`,
          );
        }),
    });
  }
  nativeKernelNames = Object.keys(native).sort();
  return (registered = { ok: true });
}

/** Threads, ISA and the oneDNN implementations picked so far (for logs and the bench). */
export function onednnInfo(): OnednnInfo {
  const loaded = loadOnednnAddon();
  if ('error' in loaded) return { available: false, reason: loaded.error };
  const i = loaded.addon.info();
  return {
    available: true,
    version: i.version,
    runtime: i.runtime,
    threads: i.threads,
    isa: i.isa,
    impls: i.impls,
    paths: i.paths,
    nativeKernels: nativeKernelNames,
  };
}
