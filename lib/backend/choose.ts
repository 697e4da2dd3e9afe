// Pick the fastest tfjs backend that works on this machine:
//   tensorflow (tfjs-node-gpu, then tfjs-node: libtensorflow, CUDA when present)
//   -> onednn (this project's native addon over oneDNN)
//   -> wasm (XNNPACK; plus our gradient kernels so conv layers can be fine-tuned)
//   -> cpu (pure JavaScript, always there, very slow).
// TFJS_BACKEND=<name> forces one (and fails loudly if it cannot start).
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
// Static imports: tslab compiles only the .ts files a notebook reaches through imports, so a lazy
// require('./onednn') would fail there. Both modules load their native/wasm parts only when called.
import { registerOnednnBackend } from './onednn';
import { registerWasmGradientKernels } from './wasm-gradients';

/**
 * tfjs' cpu backend (and so `onednn`, built on it) prints "Hi, looks like you are running
 * TensorFlow.js in Node.js…" through console.warn on its first tensor; in a notebook that is a red
 * stderr block in whichever cell first makes a tensor. The only thing that triggers it is the
 * backend's `firstUse` flag, set in its constructor: answering "not first use" for every instance
 * removes that one banner and leaves every other warning and error as it is.
 */
export function silenceNodeBackendBanner(): void {
  Object.defineProperty(MathBackendCPU.prototype, 'firstUse', {
    get: () => false,
    set: () => {},
    configurable: true,
  });
}
silenceNodeBackendBanner();

export type BackendName = 'tensorflow' | 'onednn' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'onednn', 'wasm', 'cpu'];

/** `reason` says why a backend could not load (ok false). A plain object, not a union: tslab
 * compiles notebooks without strictNullChecks, where unions on `ok` do not narrow. */
export interface LoadResult {
  ok: boolean;
  reason?: string;
  detail?: string;
}

/** One candidate: how to make its tfjs backend available (register it), without activating it. */
export interface BackendCandidate {
  name: BackendName;
  load(): Promise<LoadResult>;
}

export interface BackendChoice {
  name: BackendName;
  /** Why this one: forced by env, or the first that loaded, with the reasons the earlier ones failed. */
  why: string;
  skipped: { name: BackendName; reason: string }[];
  detail?: string;
}

/**
 * The decision alone (no tfjs state): try candidates in order, or only the forced one.
 * Kept separate so the fallback order is testable with fake candidates.
 */
export async function chooseBackend(
  candidates: readonly BackendCandidate[],
  forced?: string,
): Promise<BackendChoice> {
  const skipped: { name: BackendName; reason: string }[] = [];
  if (forced) {
    const c = candidates.find((x) => x.name === forced);
    if (!c) {
      throw new Error(
        `TFJS_BACKEND=${forced} is not a backend: use one of ${candidates.map((x) => x.name).join(', ')}.`,
      );
    }
    const r = await c.load();
    if (!r.ok)
      throw new Error(
        `TFJS_BACKEND=${forced} was asked for but cannot start: ${r.reason ?? 'unknown reason'}. Unset TFJS_BACKEND to fall back automatically.`,
      );
    return { name: c.name, why: `forced by TFJS_BACKEND=${forced}`, skipped, detail: r.detail };
  }
  for (const c of candidates) {
    let r: LoadResult;
    try {
      r = await c.load();
    } catch (e) {
      r = { ok: false, reason: (e as Error).message.split('\n')[0] };
    }
    if (r.ok) {
      const why = skipped.length
        ? `first available in order ${candidates.map((x) => x.name).join(' > ')} (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`
        : `first in order ${candidates.map((x) => x.name).join(' > ')}`;
      return { name: c.name, why, skipped, detail: r.detail };
    }
    skipped.push({ name: c.name, reason: r.reason ?? 'unknown reason' });
  }
  throw new Error(
    `No tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

function isMissingModule(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return err?.code === 'MODULE_NOT_FOUND' && err.message.includes(name);
}

/** The real candidates of this project. */
export function defaultCandidates(): BackendCandidate[] {
  return [
    {
      name: 'tensorflow',
      async load() {
        const reasons: string[] = [];
        for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
          try {
            require(pkg);
            return { ok: true, detail: pkg };
          } catch (e) {
            reasons.push(
              isMissingModule(e, pkg)
                ? `${pkg} not installed`
                : `${pkg}: ${(e as Error).message.split('\n')[0]}`,
            );
          }
        }
        return { ok: false, reason: reasons.join(', ') };
      },
    },
    { name: 'onednn', load: async () => registerOnednnBackend() },
    {
      name: 'wasm',
      async load() {
        require('@tensorflow/tfjs-backend-wasm');
        return { ok: true };
      },
    },
    { name: 'cpu', load: async () => ({ ok: true }) },
  ];
}

export interface BackendInfo {
  backend: BackendName;
  why: string;
  skipped: { name: BackendName; reason: string }[];
  tfjsVersion: string;
  detail?: string;
  /** wasm: SIMD and thread count as the backend reports them. */
  wasm?: { simd: boolean; threads: number };
}

let current: BackendInfo | null = null;

/** The backend this process started, or null before the first initBackend(). */
export function startedBackend(): BackendInfo | null {
  return current;
}

/**
 * Start the backend once per process (later calls return the same info). Call it at the top of a
 * notebook; every lib function that needs tfjs calls it too, so forgetting it only costs speed.
 */
export async function initBackend(opts: { backend?: BackendName } = {}): Promise<BackendInfo> {
  const forced = opts.backend ?? (process.env.TFJS_BACKEND?.trim() || undefined);
  if (current && (!forced || forced === current.backend)) return current;
  const choice = await chooseBackend(defaultCandidates(), forced);
  const ok = await tf.setBackend(choice.name);
  if (!ok) throw new Error(`tfjs could not activate the '${choice.name}' backend (${choice.why}).`);
  await tf.ready();
  // wasm can train conv layers only with our gradient kernels (registered once the backend exists).
  if (choice.name === 'wasm') registerWasmGradientKernels();
  const info: BackendInfo = {
    backend: choice.name,
    why: choice.why,
    skipped: choice.skipped,
    tfjsVersion: tf.version.tfjs,
    detail: choice.detail,
  };
  if (choice.name === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount?: () => number };
    info.wasm = {
      simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
      threads: wasm.getThreadsCount?.() ?? 1,
    };
  }
  current = info;
  return info;
}
