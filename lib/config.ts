// Profiles and environment. A notebook's first code cell calls `profileConfig({ shared, quick, full })`
// so every hyperparameter is visible in one place, and what the profiles do not share stands out;
// NB_PROFILE picks which set is used.
import * as path from 'node:path';
import { showBundle } from './display';
import { escapeHtml as esc } from './io/html';

export type Profile = 'quick' | 'full';
export const PROFILES: readonly Profile[] = ['quick', 'full'];

/** The project root (the folder holding package.json), whatever the working directory is. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Where generated data, feature caches and checkpoints go unless a notebook says otherwise. */
export const CACHE_DIR = process.env.NB_CACHE_DIR
  ? path.resolve(process.env.NB_CACHE_DIR)
  : path.join(PROJECT_ROOT, '.cache');

/**
 * The notebook this kernel runs, from JPY_SESSION_NAME (set by Jupyter servers and by our
 * runners), without folder or extension; null outside a notebook.
 */
export function notebookName(): string | null {
  const p = process.env.JPY_SESSION_NAME;
  if (!p) return null;
  return path.basename(p).replace(/\.ipynb$/i, '') || null;
}

/**
 * This notebook's own folder for checkpoints and logs: <CACHE_DIR>/runs/<notebook name>, so a copy
 * of a notebook never writes over the original's. `name` overrides (e.g. outside Jupyter).
 */
export function runDir(name?: string): string {
  const n = name ?? notebookName() ?? 'interactive';
  return path.join(CACHE_DIR, 'runs', n.replace(/[^\w.-]+/g, '_'));
}

/** The active profile: env NB_PROFILE, default 'quick' (the embedded offline default). */
export function currentProfile(): Profile {
  const raw = (process.env.NB_PROFILE ?? 'quick').trim().toLowerCase();
  if (raw === 'quick' || raw === 'full') return raw;
  throw new Error(
    `NB_PROFILE="${process.env.NB_PROFILE}" is not a profile: use NB_PROFILE=quick or NB_PROFILE=full.`,
  );
}

type Scalar = string | number | boolean | null | undefined;
export type ConfigValue =
  Scalar | readonly Scalar[] | { readonly [k: string]: ConfigValue } | readonly ConfigValue[];

/** A setting as short text: [64, 64], "patience 8, minDelta 0.001", 0.001. */
export function formatSetting(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (Array.isArray(v)) return `[${v.map(formatSetting).join(', ')}]`;
  if (v && typeof v === 'object')
    return Object.entries(v)
      .map(([k, x]) => `${k} ${formatSetting(x)}`)
      .join(', ');
  return String(v);
}

/**
 * How to switch profile, in one line. A kernel inherits NB_PROFILE from the notebook server that
 * started it, so changing the variable needs a server restart; a kernel restart alone keeps the old value.
 */
export const SWITCH_PROFILE_HINT =
  'Switch by passing { profile: "full" } to profileConfig and re-running the cells, or set NB_PROFILE=quick|full when starting Jupyter (a running server keeps the value it started with: restart the server, not only the kernel).';

/** Render a settings object as rows "key | quick | full" with the active column marked. */
export function configTable<T extends Record<string, unknown>>(
  profiles: Record<Profile, T>,
  active: Profile,
) {
  const keys = [...new Set([...Object.keys(profiles.quick), ...Object.keys(profiles.full)])];
  // Tight rows: the table is a reference to glance at, not the lesson.
  const cell = 'text-align:left;padding:1px 10px';
  const head = PROFILES.map((p) =>
    p === active
      ? `<th style="${cell}">${p} (active)</th>`
      : `<th style="${cell};color:#888">${p}</th>`,
  ).join('');
  const rows = keys
    .map((k) => {
      const cells = PROFILES.map((p) => {
        const v = esc(formatSetting(profiles[p][k]));
        return p === active
          ? `<td style="${cell}"><b>${v}</b></td>`
          : `<td style="${cell};color:#888">${v}</td>`;
      }).join('');
      return `<tr><td style="${cell}"><code>${esc(k)}</code></td>${cells}</tr>`;
    })
    .join('');
  const caption = `<caption style="text-align:left;caption-side:bottom;font-size:smaller;color:#555">Profile <b>${active}</b>. ${esc(SWITCH_PROFILE_HINT)}</caption>`;
  const html = `<table style="font-size:smaller">${caption}<thead><tr><th style="${cell}">setting</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  const width = Math.max(7, ...keys.map((k) => k.length));
  const text = [
    `profile: ${active}`,
    ...keys.map((k) => `${k.padEnd(width)}  ${formatSetting(profiles[active][k])}`),
    SWITCH_PROFILE_HINT,
  ].join('\n');
  return { html, text };
}

type Settings<T> = { [K in keyof T]: ConfigValue };

/**
 * Choose the settings of the active profile and show all of them (both profiles side by side, the
 * active one in bold). `shared` holds what both profiles use, `quick` and `full` only what differs;
 * those two must have the same keys and types (the compiler checks it), and a key is either shared
 * or per profile, never both.
 */
export function profileConfig<S extends Settings<S>, T extends Settings<T>>(
  profiles: { shared?: S; quick: T; full: T },
  opts: { show?: boolean; profile?: Profile } = {},
): S & T & { profile: Profile } {
  const profile = opts.profile ?? currentProfile();
  const shared = (profiles.shared ?? {}) as S;
  const twice = Object.keys(shared).filter((k) => k in profiles.quick || k in profiles.full);
  if (twice.length)
    throw new Error(
      `profileConfig: ${twice.join(', ')} ${twice.length > 1 ? 'are' : 'is'} both in shared and in a profile; keep each setting in one place.`,
    );
  const merged = {
    quick: { ...shared, ...profiles.quick },
    full: { ...shared, ...profiles.full },
  };
  const overrides = settingOverrides(Object.keys(merged[profile]));
  Object.assign(merged[profile], overrides);
  const { html, text } = configTable(merged as Record<Profile, Record<string, unknown>>, profile);
  const note = Object.keys(overrides).length
    ? `${SET_ENV} changed ${Object.keys(overrides).join(', ')} in profile ${profile}.`
    : '';
  const table = {
    'text/html': note ? `${html}<p><b>${esc(note)}</b></p>` : html,
    'text/plain': note ? `${text}\n${note}` : text,
  };
  if (opts.show !== false) showBundle(table);
  const cfg = { ...merged[profile], profile };
  // Kept out of the settings' keys, for describeRun to show under its disclosure.
  if (opts.show === false)
    Object.defineProperty(cfg, SETTINGS_TABLE, { value: table, enumerable: false });
  return cfg;
}

/** Where profileConfig keeps the rendered settings table on the object it returns. */
export const SETTINGS_TABLE = Symbol.for('tfjs-finetune-notebooks.settingsTable');

/** The settings table profileConfig({ …, show: false }) rendered but did not show, if any. */
export function settingsTableOf(config: object): Record<string, string> | undefined {
  return (config as { [SETTINGS_TABLE]?: Record<string, string> })[SETTINGS_TABLE];
}

/** The environment variable that changes settings of the active profile without editing the notebook. */
export const SET_ENV = 'NB_SET';

/**
 * Settings from NB_SET, a JSON object such as `{"epochs": 60, "dropout": 0}` (for headless runs and
 * tests: `NB_SET='{"dropout":0}' npm run report -- 01`). Each key must be one of the notebook's
 * settings, so a typo fails here instead of being ignored.
 */
export function settingOverrides(known: readonly string[]): Record<string, ConfigValue> {
  const raw = process.env[SET_ENV];
  if (!raw || !raw.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(
      `${SET_ENV} is not JSON (${(e as Error).message}): write an object such as ${SET_ENV}='{"epochs": 60}'.`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${SET_ENV} must be a JSON object such as {"epochs": 60}, got ${raw}.`);
  const unknown = Object.keys(parsed).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new Error(
      `${SET_ENV} names ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not a setting of this notebook; its settings are ${known.join(', ')}.`,
    );
  return parsed as Record<string, ConfigValue>;
}

/** A data folder from the environment (GTSRB_DIR, CARS_DIR, IMAGES_DIR), resolved against the project root. */
export function dataDirFromEnv(name: 'GTSRB_DIR' | 'CARS_DIR' | 'IMAGES_DIR'): string | undefined {
  const v = process.env[name];
  return v ? path.resolve(PROJECT_ROOT, v) : undefined;
}
