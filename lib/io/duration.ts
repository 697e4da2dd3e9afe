// One way to write a duration, shared by the training summary (lib/train), the live progress line
// and the results tables (lib/charts): a phase's time reads the same in all three (issue 23).

/** Seconds as a short duration: "7.79 s", "12.3 s", "38 min 5 s", "4 h 33 min". */
export function formatSeconds(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '';
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 2 : 1)} s`;
  const m = Math.floor(sec / 60);
  const s = Math.round(sec - m * 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}
