import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toOpenMetrics } from '../../agent/src/telemetry/openMetrics.js';

test('counter families lose _total in HELP/TYPE, samples keep it; quotes in HELP are escaped; ends with # EOF', () => {
  const text = [
    '# HELP x_requests_total Requests, by "outcome".',
    '# TYPE x_requests_total counter',
    'x_requests_total{outcome="ok"} 3',
    '',
    '# HELP x_queue Pending "requests".',
    '# TYPE x_queue gauge',
    'x_queue 1',
    '',
  ].join('\n');
  assert.equal(
    toOpenMetrics(text),
    [
      '# HELP x_requests Requests, by \\"outcome\\".',
      '# TYPE x_requests counter',
      'x_requests_total{outcome="ok"} 3',
      '# HELP x_queue Pending \\"requests\\".',
      '# TYPE x_queue gauge',
      'x_queue 1',
      '# EOF',
      '',
    ].join('\n'),
  );
});
