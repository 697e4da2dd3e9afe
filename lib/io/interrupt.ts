// Jupyter's Interrupt for every long library call (Python's KeyboardInterrupt, for a tslab kernel).
//
// Jupyter's ■ sends SIGINT to the kernel. tslab then abandons the running cell's promise at once and
// prints "Interrupted asynchronously" with its own stack, but the work behind the promise goes on:
// feature extraction kept two cores busy for a minute and printed its progress under later cells.
// Here every long call runs in an interrupt frame (interruptible()): while one is open the kernel
// listens for SIGINT, and on it (synchronously, while the interrupted cell is still the one whose
// output is shown) prints ONE line — what stopped and what was kept — and marks the open frames. The
// batch loop (./batches.ts) checks its frame between batches and throws `Interrupted`, so the work
// stops after the current batch, nothing after it prints, and the abandoned cell's later lines (an
// evaluateWithPredictions after an interrupted training) do not run either: the rejection travels up like Python's
// KeyboardInterrupt. tslab's own stack for the interrupt is left out (our line says it better).
//
// Frames are found through AsyncLocalStorage, not a global flag: a cell run after the interrupt opens
// new, unmarked frames while the abandoned one is still unwinding, and must not be stopped by it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { isKernel } from '../display';

/** Thrown by a long call stopped by Jupyter's Interrupt (Python's KeyboardInterrupt). */
export class Interrupted extends Error {
  constructor(readonly what: string) {
    super(`Interrupted: ${what} stopped.`);
    this.name = 'Interrupted';
    // The line was printed when the interrupt came; a stack here would only repeat tslab internals.
    this.stack = this.message;
  }
}

interface Frame {
  readonly what: string;
  readonly kept?: () => string | undefined;
  readonly parent: Frame | undefined;
  interrupted: boolean;
}

const frames = new AsyncLocalStorage<Frame>();
/** Every frame open now (in any cell), for the SIGINT handler. */
const open = new Set<Frame>();
let listening = false;

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The line printed on an interrupt: the outermost open call, and what each open call keeps. */
function interruptLine(marked: Frame[]): string {
  const roots = marked.filter((f) => !f.parent || !open.has(f.parent));
  const whats = [...new Set(roots.map((f) => f.what))];
  const kept: string[] = [];
  for (const f of marked) {
    let k: string | undefined;
    try {
      k = f.kept?.();
    } catch {
      k = undefined; // a describer must never turn an interrupt into a crash
    }
    if (k && !kept.includes(k)) kept.push(k);
  }
  return `⏹ Interrupted: ${whats.join(', ')} stopped.${kept.length ? ` Kept: ${kept.join('; ')}.` : ''}`;
}

/**
 * tslab's "Interrupted asynchronously" error with its stack (ten lines of tslab and commander
 * internals): dropped once, after our own line. tslab prints it with the console.error it captured
 * at start-up, so the filter sits on process.stderr.write (which tslab points at the running cell).
 */
function dropTslabInterruptStackOnce(): void {
  const stderr = process.stderr as unknown as { write: (...args: unknown[]) => boolean };
  const original = stderr.write;
  const restore = () => {
    if (stderr.write === filtered) stderr.write = original;
  };
  const filtered = (...args: unknown[]): boolean => {
    const chunk = args[0];
    if (typeof chunk === 'string' && chunk.startsWith('Error: Interrupted asynchronously')) {
      restore();
      return true;
    }
    return original.apply(process.stderr, args);
  };
  stderr.write = filtered;
  // tslab prints it in the microtasks right after the signal; never keep the filter longer.
  setTimeout(restore, 500).unref?.();
}

/**
 * What Jupyter's Interrupt does, callable directly (tests; a script that wants the same stop): mark
 * every open frame, print the one line. Returns false when no long call was running.
 */
export function interruptNow(opts: { quiet?: boolean } = {}): boolean {
  const marked = [...open].filter((f) => !f.interrupted);
  if (!marked.length) return false;
  for (const f of marked) f.interrupted = true;
  if (!opts.quiet) console.log(interruptLine(marked));
  return true;
}

/**
 * Set (to the time) when our one line reported an Interrupt: the project's kernel preload
 * (scripts/platform/tslab-preload.cjs) then prints nothing for tslab's own interrupt error, so the
 * cell shows one line, not two.
 */
export const INTERRUPT_REPORTED = Symbol.for('tfjs-finetune-notebooks.interruptReported');

function onSigint(): void {
  if (!interruptNow()) return;
  dropTslabInterruptStackOnce();
  (globalThis as Record<symbol, unknown>)[INTERRUPT_REPORTED] = Date.now();
}

/** True when the call running here (or one it runs inside) was interrupted. */
export function isInterrupted(): boolean {
  for (let f = frames.getStore(); f; f = f.parent) if (f.interrupted) return true;
  return false;
}

/** Throw `Interrupted` when the call running here was interrupted: call it between batches. */
export function checkInterrupt(): void {
  let outer: Frame | undefined;
  for (let f = frames.getStore(); f; f = f.parent) if (f.interrupted) outer = f;
  if (outer) {
    let root = outer;
    while (root.parent?.interrupted) root = root.parent;
    throw new Interrupted(root.what);
  }
}

/**
 * Run one long call (`what`: how the line names it, e.g. "evaluateWithPredictions", "training 'fine-tuning'") so
 * that Jupyter's Interrupt stops it between batches. `kept` says, at the moment of the interrupt,
 * what survives (the epochs done, a checkpoint); it is called synchronously from the signal handler.
 * Calls nest: a validation pass inside a training phase is stopped with it.
 */
export async function interruptible<T>(
  what: string,
  body: () => Promise<T>,
  opts: { kept?: () => string | undefined } = {},
): Promise<T> {
  const frame: Frame = { what, kept: opts.kept, parent: frames.getStore(), interrupted: false };
  if (frame.parent?.interrupted) frame.interrupted = true;
  const kernel = isKernel();
  if (kernel && !listening) {
    // Not synchronously: tslab runs a cell's synchronous part in vm.runInThisContext(..., {
    // breakOnSigint: true }), and a SIGINT listener added there is dropped when it returns, leaving
    // Node's default (exit): the next Interrupt would kill the kernel. One tick later it is over.
    await nextTick();
    if (!listening) {
      process.on('SIGINT', onSigint);
      listening = true;
    }
  }
  open.add(frame);
  try {
    return await frames.run(frame, body);
  } finally {
    open.delete(frame);
    if (listening && open.size === 0) {
      // Idle again: tslab's own handler alone (an Interrupt with nothing running is harmless).
      process.off('SIGINT', onSigint);
      listening = false;
    }
  }
}
