// Jupyter's Interrupt during trainPhase in a real tslab kernel: the cell stops after the current
// batch, the kernel (and everything in memory) survives, the next cell runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelScriptJson, skipWithoutJupyter as skip } from './kernel';

/** interrupt_kernel.py's JSON line. */
interface TrainInterrupt {
  setup: string;
  train: string;
  interrupted: boolean;
  alive_after: boolean;
  next: string;
  alive_after_idle_interrupt: boolean;
}
/** interrupt_work.py's JSON line: per interrupted call, what it printed and how the kernel fared. */
interface WorkInterrupt {
  interrupted: boolean;
  alive: boolean;
  cpu_2s_to_3s: number;
  cell_output: string[];
  late_messages: string[];
  next_cell: string[];
}

test(
  'interrupting the kernel during trainPhase stops the cell after the current batch; the kernel survives',
  { skip },
  () => {
    const out = kernelScriptJson<TrainInterrupt>('interrupt_kernel.py', {
      timeout: 300_000,
    });
    assert.match(out.setup, /setup done/);
    assert.equal(out.interrupted, true, `training never started: ${JSON.stringify(out)}`);
    assert.equal(out.alive_after, true, `the kernel died: ${JSON.stringify(out)}`);
    const m = /next cell ran; model still here: true; batches (\d+) then (\d+)/.exec(out.next);
    assert.ok(m, out.next);
    assert.equal(m[1], m[2], 'the training loop stopped instead of going on in the background');
    assert.equal(out.alive_after_idle_interrupt, true);
  },
);

test(
  'interrupting feature extraction or evaluateWithPredictions stops the work within 2 s, prints one line and nothing later',
  { skip },
  () => {
    const out = kernelScriptJson<Record<string, WorkInterrupt>>('interrupt_work.py', {
      timeout: 400_000,
    });
    for (const [call, line] of [
      [
        'features',
        /^stdout: ⏹ Interrupted: cachedFeatures at "\w+" stopped\. Kept: the features computed so far are cached/,
      ],
      ['evaluate', /^stdout: ⏹ Interrupted: evaluateWithPredictions stopped\./],
    ] as const) {
      const o = out[call];
      const said = JSON.stringify(o, null, 1);
      assert.equal(o.interrupted, true, `${call} never started: ${said}`);
      assert.equal(o.alive, true, `the kernel died: ${said}`);
      // The kernel's own CPU time from 2 s to 3 s after Interrupt: the work stopped (a busy batch loop
      // uses ~1 s of CPU per second there).
      assert.ok(o.cpu_2s_to_3s < 0.1, `${call} still computing 2 s after Interrupt: ${said}`);
      // The progress display (shown, then updated in place when a batch ends before the Interrupt)
      // is not printed text.
      const printed = o.cell_output.filter((s: string) => !/^(update_)?display_data/.test(s));
      assert.equal(printed.length, 1, `one line, no tslab stack: ${said}`);
      assert.match(printed[0], line);
      assert.doesNotMatch(
        JSON.stringify(o.cell_output),
        /LATE|Interrupted asynchronously|executor\.js/,
      );
      assert.deepEqual(o.late_messages, [], `output of the interrupted call came later: ${said}`);
      assert.deepEqual(
        o.next_cell,
        ['stdout: next cell: 4\n'],
        `leaked into the next cell: ${said}`,
      );
    }
  },
);
