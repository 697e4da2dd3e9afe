// The config cell: both profiles side by side, compact values, and how to switch profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configTable, formatSetting, profileConfig, SWITCH_PROFILE_HINT } from '../../lib/config';

test('profileConfig returns the chosen profile and prints its settings compactly with how to switch', () => {
  const profiles = {
    quick: {
      imageSize: [64, 64],
      earlyStopping: { patience: 8, minDelta: 1e-3 },
      weights: 'auto',
      newImage: '',
    },
    full: {
      imageSize: [224, 224],
      earlyStopping: { patience: 8, minDelta: 1e-3 },
      weights: 'imagenet',
      newImage: '',
    },
  };
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  let cfg;
  try {
    cfg = profileConfig(profiles, { profile: 'full' });
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(cfg, { ...profiles.full, profile: 'full' });
  assert.match(out, /^profile: full\n/);
  assert.match(out, /imageSize\s+\[224, 224\]\n/);
  assert.match(out, /earlyStopping\s+patience 8, minDelta 0\.001\n/);
  assert.ok(out.includes(SWITCH_PROFILE_HINT) && /restart the server/.test(SWITCH_PROFILE_HINT));
  assert.equal(formatSetting(''), '""');
  assert.equal(formatSetting([[1, 2], 'a']), '[[1, 2], a]');
});

test('profileConfig({ shared, quick, full }): shared settings in both profiles and in both columns; a key in both places is refused', () => {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  let cfg;
  try {
    cfg = profileConfig(
      {
        shared: { batchSize: 32, seed: 42 },
        quick: { imageSize: [64, 64], epochs: 20 },
        full: { imageSize: [224, 224], epochs: 100 },
      },
      { profile: 'quick' },
    );
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(cfg, {
    batchSize: 32,
    seed: 42,
    imageSize: [64, 64],
    epochs: 20,
    profile: 'quick',
  });
  assert.match(out, /batchSize\s+32\n/);
  assert.match(out, /imageSize\s+\[64, 64\]\n/);
  // The table shows a shared setting in the quick and the full column, beside the ones that differ.
  const { html } = configTable(
    { quick: { seed: 42, epochs: 20 }, full: { seed: 42, epochs: 100 } },
    'quick',
  );
  assert.match(html, /<code>seed<\/code><\/td><td[^>]*><b>42<\/b><\/td><td[^>]*>42<\/td>/);
  assert.match(html, /<code>epochs<\/code><\/td><td[^>]*><b>20<\/b><\/td><td[^>]*>100<\/td>/);
  assert.throws(
    () =>
      profileConfig(
        { shared: { seed: 42 }, quick: { seed: 1 }, full: { seed: 1 } },
        { show: false, profile: 'quick' },
      ),
    /seed is both in shared and in a profile/,
  );
});
