// Keras CSVLogger: one CSV row per epoch, rewritten atomically so the file survives an interrupt.
import * as fs from 'node:fs';

import type { Logs, TrainCallback } from '../types';
import { removeLeftovers, writeFileAtomic } from '../../io/atomic';

export interface CSVLoggerOptions {
  separator?: string;
  /** Keep the rows already in the file (e.g. for the fine-tuning phase). */
  append?: boolean;
}

/**
 * Keras CSVLogger(filename, separator=',', append=False): one row per epoch, columns `epoch` then the
 * log keys sorted. The whole file is rewritten atomically after every epoch, so it is always
 * complete up to the last finished epoch, even when the run is interrupted.
 */
export class CSVLogger implements TrainCallback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private text = '';

  constructor(filename: string, opts: CSVLoggerOptions = {}) {
    if (!filename)
      throw new Error('CSVLogger: give a file name, e.g. new CSVLogger("train_log.csv").');
    this.filename = filename;
    this.separator = opts.separator ?? ',';
    this.append = opts.append ?? false;
  }

  onTrainBegin(): void {
    this.keys = null;
    this.text = '';
    removeLeftovers(this.filename); // temp files of a run that was killed while writing
    if (this.append && fs.existsSync(this.filename)) {
      this.text = fs.readFileSync(this.filename, 'utf8');
      if (this.text && !this.text.endsWith('\n')) this.text += '\n';
      const header = this.text.split('\n')[0];
      if (header) this.keys = header.split(this.separator).slice(1);
    }
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      this.text += ['epoch', ...this.keys].join(this.separator) + '\n';
    }
    const row = [
      String(epoch),
      ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : String(logs[k]))),
    ];
    this.text += row.join(this.separator) + '\n';
    writeFileAtomic(this.filename, this.text);
  }
}
