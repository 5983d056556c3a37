// Picking a point of a line chart (the latency chart opens the slowest requests of that second):
// the point nearest a time, among those with a value inside the window, and the arrow keys' steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgePoint, nearestPoint, stepPoint, type LineChartData } from '../../webview/src/charts/lineChart.js';

const data: LineChartData = {
  times: [1000, 2000, 3000, 4000, 5000, 6000],
  windowMs: 4500, // 1500 … 6000: the first point is outside
  series: [
    { label: 'p50', values: [1, 1, null, null, 2, 3] },
    { label: 'p99', values: [9, 9, null, 5, null, null] },
  ],
};

test('the nearest point with a value in any series, inside the window; none without one', () => {
  assert.equal(nearestPoint(data, 2900), 1, '3000 has no value: 2000 is nearest');
  assert.equal(nearestPoint(data, 3600), 3, 'a value in p99 only counts');
  assert.equal(nearestPoint(data, 0), 1, '1000 is outside the window');
  assert.equal(nearestPoint(data, 99_000), 5);
  assert.equal(nearestPoint({ ...data, series: [{ label: 'p50', values: data.times.map(() => null) }] }, 3000), -1);
});

test('arrow keys step over points without values and stop at the ends; Home and End go to the first and last', () => {
  assert.deepEqual([edgePoint(data, 'first'), edgePoint(data, 'last')], [1, 5]);
  assert.equal(edgePoint({ ...data, series: [] }, 'last'), -1);
  assert.equal(stepPoint(data, 1, 1), 3);
  assert.equal(stepPoint(data, 3, -1), 1);
  assert.equal(stepPoint(data, 1, -1), 1, 'the point before is outside the window');
  assert.equal(stepPoint(data, 5, 1), 5);
});
