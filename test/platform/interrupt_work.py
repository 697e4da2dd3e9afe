"""Interrupt feature extraction and evaluate in a real tslab kernel (Jupyter's "Interrupt" = SIGINT).

Run by test/platform/interrupt.test.ts with JUPYTER_PATH pointing at the project's kernelspec.
For each long call: start it, interrupt it 1.5 s after its progress appears, then record
  - what the interrupted cell printed (the one "Interrupted" line, no tslab stack),
  - the kernel process's CPU time from 2 s to 3 s after the interrupt (idle: the work stopped),
  - every message of the interrupted cell after it went idle, and what the next cell shows
    (nothing of the interrupted call may appear there).
Prints one JSON line.
"""
import json
import os
import sys
import time

from kernel_session import output_of, project_kernel, run_cell, summary

SETUP = """
import * as tf from '@tensorflow/tfjs';
import { fakeDataset } from './test/train/fake-dataset';
import { cachedFeatures } from './lib/train/cache';
import { evaluateWithPredictions } from './lib/evaluate/evaluate';
const input = tf.input({ shape: [32, 32, 3] });
let x = input as tf.SymbolicTensor;
for (let i = 0; i < 2; i++)
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
const pooled = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor });
// Enough images that each call would run for minutes.
const ds = fakeDataset({ n: 20000, size: [32, 32], batchSize: 8 });
console.log('setup done');
"""

CALLS = {
    "features": """
const feats = await cachedFeatures(model, ds, { dir: null });
await feats.precompute();
console.log('LATE: features done');
""",
    "evaluate": """
const ev = await evaluateWithPredictions(model, ds, { topK: 2 });
console.log('LATE: evaluateWithPredictions done');
""",
}

NEXT = """
await new Promise((r) => setTimeout(r, 1500));
console.log('next cell: ' + (2 + 2));
"""


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def summarize(msg):
    """An iopub message as one string ('stdout: text'), or None when it is no output."""
    out = output_of(msg)
    return summary(out) if out else None


def drain(kc, seconds):
    """Every iopub message (any cell) for `seconds`."""
    out = []
    end = time.time() + seconds
    while time.time() < end:
        try:
            out.append(kc.get_iopub_msg(timeout=0.2))
        except Exception:
            pass
    return out


def next_cell(km, kc):
    outputs, _ = run_cell(km, kc, NEXT, 30)
    return [summary(o) for o in outputs]


def interrupt_call(km, kc, pid, code):
    r = {}
    msg_id = kc.execute(code)
    outputs = []
    started = None
    interrupted_at = None
    idle = False
    end = time.time() + 180
    while time.time() < end and not idle:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except Exception:
            msg = None
        if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
            s = summarize(msg)
            if s:
                outputs.append(s)
                if started is None and msg["msg_type"] in ("display_data", "update_display_data", "stream"):
                    started = time.time()
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        if started and interrupted_at is None and time.time() - started > 1.5:
            km.interrupt_kernel()
            interrupted_at = time.time()
    r["started"] = started is not None
    r["interrupted"] = interrupted_at is not None
    r["cell_output"] = outputs
    if interrupted_at is None:
        return r
    r["idle_after_s"] = round(time.time() - interrupted_at, 2)
    # Up to 2 s after the interrupt the work may finish its batch; from 2 s to 3 s it must be idle.
    late = drain(kc, max(0.0, interrupted_at + 2.0 - time.time()))
    c0 = cpu_seconds(pid)
    late += drain(kc, 1.0)
    r["cpu_2s_to_3s"] = round(cpu_seconds(pid) - c0, 3)
    r["alive"] = km.is_alive()
    late += drain(kc, 1.0)
    r["late_messages"] = [
        s for s in (summarize(m) for m in late if m["parent_header"].get("msg_id") == msg_id) if s
    ]
    r["next_cell"] = next_cell(km, kc)
    return r


def main():
    out = {}
    with project_kernel(ready_timeout=90) as (km, kc):
        pid = km.provisioner.pid
        outputs, _ = run_cell(km, kc, SETUP, 180)
        out["setup"] = [summary(o) for o in outputs]
        for name, code in CALLS.items():
            out[name] = interrupt_call(km, kc, pid, code)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
