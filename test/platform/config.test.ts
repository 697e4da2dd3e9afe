// The config cell: both profiles side by side, compact values, and how to switch profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSetting, profileConfig, SWITCH_PROFILE_HINT } from '../../lib/config';

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
