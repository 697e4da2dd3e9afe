"""Interrupt a real tslab kernel while trainPhase runs (Jupyter's "Interrupt" = SIGINT).

Run by test/platform/interrupt.test.ts with JUPYTER_PATH pointing at the project's kernelspec.
Prints one JSON line: what each cell printed, whether the kernel was alive after the interrupt.
"""
import json
import sys
import time

from kernel_session import project_kernel, run_cell, stream_text

SETUP = """
import * as tf from '@tensorflow/tfjs';
import { trainPhase } from './lib/train/loop';
import { compile, adam } from './lib/train/compile';
const input = tf.input({ shape: [8, 8, 3] });
const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor });
// A stand-in ImageDataset: 6 batches of 4 random images per epoch.
const ds: any = {
  classNames: ['a', 'b', 'c'], numBatches: 6, batchSize: 4, size: 24, files: [],
  async *batches() { for (let i = 0; i < 6; i++) yield { xs: tf.randomUniform([4, 8, 8, 3]), ys: null, labels: [0, 1, 2, 0] }; },
};
let batches = 0;
console.log('setup done');
"""

# trainPhase is the cell's first await: its synchronous part runs inside tslab's
# vm.runInThisContext(..., { breakOnSigint: true }).
TRAIN = """
compile(model, { optimizer: adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy' });
const history = await trainPhase({ model: model, train: ds, epochs: 100000, verbose: 0, summary: false,
  callbacks: [{ onBatchEnd: () => { if (++batches === 1) console.log('training started'); } }] });
console.log(`cell ended after ${history.epochs.length} epochs, ${batches} batches`);
"""

# tslab abandons the interrupted cell's promise at once; the training loop itself must stop too
# (after its current batch), not go on in the background.
NEXT = """
const seen = batches;
await new Promise((r) => setTimeout(r, 1500));
console.log(`next cell ran; model still here: ${model.name.length > 0}; batches ${seen} then ${batches}`);
"""


def run(km, kc, code, timeout, on_output=None):
    """Execute `code`; return (stdout+stderr text, reply status)."""
    outputs, status = run_cell(
        km, kc, code, timeout, on_output and (lambda outs: on_output(stream_text(outs)))
    )
    return stream_text(outputs), status


def main():
    out = {}
    with project_kernel(ready_timeout=90) as (km, kc):
        out["setup"], _ = run(km, kc, SETUP, 120)
        sent = {"done": False}

        def interrupt_once(text):
            if "training started" in text and not sent["done"]:
                sent["done"] = True
                time.sleep(1.0)
                km.interrupt_kernel()

        out["train"], out["train_status"] = run(km, kc, TRAIN, 120, interrupt_once)
        out["interrupted"] = sent["done"]
        time.sleep(0.5)
        out["alive_after"] = km.is_alive()
        if out["alive_after"]:
            out["next"], _ = run(km, kc, NEXT, 30)
            # A second interrupt, while idle, must not kill the kernel either.
            km.interrupt_kernel()
            time.sleep(1.0)
            out["alive_after_idle_interrupt"] = km.is_alive()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
