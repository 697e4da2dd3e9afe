// Progress output for long preparation steps: a cli-progress bar on a terminal, a few plain lines
// otherwise (notebooks, CI logs), nothing when disabled.
import * as cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export function makeProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled || total <= 0) return { tick() {}, done() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} {eta_formatted}` }, cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    return { tick: (n = 1) => bar.increment(n), done: () => bar.stop() };
  }
  let value = 0, lastTenth = -1;
  return {
    tick(n = 1) {
      value += n;
      const tenth = Math.floor((10 * value) / total);
      if (tenth !== lastTenth) { lastTenth = tenth; console.log(`${label}: ${value}/${total} (${Math.round((100 * value) / total)}%)`); }
    },
    done() { if (value < total) console.log(`${label}: done`); },
  };
}
