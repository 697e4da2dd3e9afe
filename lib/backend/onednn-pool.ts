// Recycles the output arrays of the native kernels. A fresh 25 MB Float32Array costs ~10 ms
// of page faults before the kernel writes a byte, which for ResNet50 is as much time as the
// convolutions, so arrays freed by tf.dispose/tidy go back to a free list by length.
//
// Safety: an array is recycled only when no tensor can see it any more. The pool counts the
// data-store entries that point into each array's buffer (cpu kernels such as Slice may alias
// a subarray), and an array whose values were ever read out (dataSync, data, bufferSync, moves
// to another backend) is never recycled, since the caller may keep that array.
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

type Tracked = { whole: Float32Array; refs: number };
type DataId = object;
type BackendData = { values?: unknown };

export class OnednnOutputPool {
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  private readonly tracked = new WeakMap<ArrayBufferLike, Tracked>();

  /** `maxFreeBytes` caps what the free lists hold (0 disables recycling). */
  constructor(readonly maxFreeBytes: number) {}

  /**
   * An array of n zeros: a recycled one when the free list has that length, else a new one.
   * `zeroed: false` skips the memset of a recycled array (its old values stay), for kernels that
   * write every element anyway.
   */
  take(n: number, zeroed = true): Float32Array {
    const a = this.free.get(n)?.pop();
    if (a) {
      this.freeBytes -= a.byteLength;
      // Reused arrays are zeroed: oneDNN's pooling backward (at least) accumulates into its
      // output, and a whole-model test showed wrong gradients from dirty arrays without this.
      // A memset costs ~1/4 of the page faults of a fresh array.
      if (zeroed) a.fill(0);
    }
    const out = a ?? new Float32Array(n);
    if (this.maxFreeBytes > 0) this.tracked.set(out.buffer, { whole: out, refs: 0 });
    return out;
  }

  /** True when `a` may be recycled later (so nothing should cache by its identity). */
  isRecyclable(a: Float32Array): boolean {
    return this.tracked.has(a.buffer);
  }

  get bytesFree(): number {
    return this.freeBytes;
  }

  /** Hook the backend's data store so the pool sees every reference made and dropped. */
  attach(backend: MathBackendCPU): void {
    const b = backend as unknown as {
      write(values: unknown, shape: number[], dtype: string): DataId;
      move(dataId: DataId, values: unknown, shape: number[], dtype: string, refCount: number): void;
      readSync(dataId: DataId): unknown;
      disposeData(dataId: DataId, force?: boolean): boolean;
      data: { has(id: DataId): boolean; get(id: DataId): BackendData };
    };
    const { write, move, readSync, disposeData } = {
      write: b.write.bind(b),
      move: b.move.bind(b),
      readSync: b.readSync.bind(b),
      disposeData: b.disposeData.bind(b),
    };
    b.write = (values, shape, dtype) => {
      this.ref(values);
      return write(values, shape, dtype);
    };
    b.move = (dataId, values, shape, dtype, refCount) => {
      this.ref(values);
      move(dataId, values, shape, dtype, refCount);
    };
    b.readSync = (dataId) => {
      if (b.data.has(dataId)) this.escape(b.data.get(dataId).values);
      return readSync(dataId);
    };
    b.disposeData = (dataId, force) => {
      const values = b.data.has(dataId) ? b.data.get(dataId).values : undefined;
      const done = disposeData(dataId, force);
      if (values !== undefined && !b.data.has(dataId)) this.release(values);
      return done;
    };
  }

  private trackOf(values: unknown): Tracked | undefined {
    return ArrayBuffer.isView(values) ? this.tracked.get(values.buffer) : undefined;
  }

  private ref(values: unknown): void {
    const t = this.trackOf(values);
    if (t) t.refs++;
  }

  private escape(values: unknown): void {
    if (ArrayBuffer.isView(values)) this.tracked.delete(values.buffer);
  }

  private release(values: unknown): void {
    const t = this.trackOf(values);
    if (!t || --t.refs > 0) return;
    this.tracked.delete(t.whole.buffer);
    if (this.freeBytes + t.whole.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(t.whole.length);
    if (!list) this.free.set(t.whole.length, (list = []));
    list.push(t.whole);
    this.freeBytes += t.whole.byteLength;
  }
}
