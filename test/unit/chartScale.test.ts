// The webview chart module's scaling: nice ticks, y domains, pixel mapping, high-DPI backing size.
import { upTo } from '../../extension/src/live/panelMetrics.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backingSize, formatBytes, formatNumber, formatTick, linearScale, niceTicks, yDomain } from '../../webview/src/charts/scale.js';
import { windowMs } from '../../webview/src/panelContext.js';

test('niceTicks uses 1/2/2.5/5 × 10^k steps that cover the range', () => {
  assert.deepEqual(niceTicks(0, 10, 4), [0, 2.5, 5, 7.5, 10]);
  assert.deepEqual(niceTicks(0, 1, 4), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(niceTicks(0, 730, 3), [0, 250, 500, 750].filter((t) => t <= 730));
  assert.deepEqual(niceTicks(5, 5, 4), [5, 5.25, 5.5, 5.75, 6]);
  assert.deepEqual(niceTicks(NaN, 1), []);
  for (const [lo, hi] of [[0, 0.0037], [0, 12345], [-3, 7]] as const) {
    const t = niceTicks(lo, hi, 4);
    assert.ok(t.length >= 2 && t.length <= 9, `${lo}..${hi}: ${t}`);
    assert.ok(t.every((v, i) => i === 0 || v > t[i - 1]!));
  }
});

test('yDomain starts at 0, ignores gaps, rounds the top up to a tick, and has a default', () => {
  assert.deepEqual(yDomain([null, 3, 7.2, null]), [0, 7.5]);
  assert.deepEqual(yDomain([null, null]), [0, 1]);
  assert.deepEqual(yDomain([-2, 4]), [-2, 4]);
  // Only zeros (an idle model): 0..1, whose ticks read 0, 0.5, 1 — not 5e-10 and 1e-9 (issue 19).
  assert.deepEqual(yDomain([0, 0]), [0, 1]);
  assert.deepEqual(yDomain([0, 0.0004]), [0, 0.0004], 'small values keep their own scale');
});

test('linearScale maps domain to range, inverted ranges included (canvas y grows down)', () => {
  const y = linearScale([0, 100], [110, 10]);
  assert.equal(y(0), 110);
  assert.equal(y(100), 10);
  assert.equal(y(25), 85);
  assert.equal(linearScale([5, 5], [0, 10])(5), 0, 'an empty domain does not divide by zero');
});

test('backingSize scales the canvas for high-DPI screens (bounded), formatting helpers', () => {
  assert.deepEqual(backingSize(300, 120, 2), { width: 600, height: 240, scale: 2 });
  assert.deepEqual(backingSize(300, 120, 0), { width: 300, height: 120, scale: 1 });
  assert.equal(backingSize(300, 120, 10).scale, 4);
  assert.equal(formatTick(20), '20');
  assert.equal(formatTick(0.25), '0.25');
  assert.equal(formatTick(2500), '2.5k');
  assert.equal(formatNumber(418.4), '418');
  assert.equal(formatNumber(NaN), '–');
  assert.equal(formatBytes(64 * 1024 * 1024), '64.0 MiB');
  assert.equal(windowMs([0, 10_000]), 60_000);
  assert.equal(windowMs([0, 100_000]), 120_000);
  assert.equal(windowMs([0, 3_600_000]), 300_000);
});

test('batch-size bars stop at the bucket that holds max_batch_size, and never carry +Inf (JSON would make it null)', () => {
  const buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, Infinity].map((le, i) => ({ le, count: i }));
  assert.deepEqual(upTo(buckets, 64).map((b) => b.le), [1, 2, 4, 8, 16, 32, 64]);
  assert.deepEqual(upTo(buckets, 100).map((b) => b.le), [1, 2, 4, 8, 16, 32, 64, 128]);
  assert.deepEqual(upTo(buckets, 0).map((b) => b.le), [1], 'a model without batching runs batches of one');
  assert.deepEqual(upTo(buckets, 4096).map((b) => b.le), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
  assert.ok(!JSON.stringify(upTo(buckets, 4096)).includes('null'));
});
