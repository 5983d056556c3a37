// Canaries are bounded (issue 16): one that tolerates 1e12 inconclusive checks, plans more than
// 1000 checks, or names no critical metric (it would promote on no evidence) is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canarySpecSchema } from '../../agent/src/canary/canarySpec.js';

const base = { model: 'digits', candidate: '2' };

test('unbounded or evidence-free canaries are refused with the field and the bound', () => {
  const refused = (body: unknown, message: RegExp) => {
    const r = canarySpecSchema.safeParse(body);
    assert.equal(r.success, false, JSON.stringify(body));
    assert.match(JSON.stringify(r.error!.issues), message);
  };
  refused({ ...base, interval_s: 0.05, thresholds: { max_inconclusive_checks: 1e12 } }, /expected at most 1000/);
  refused({ ...base, thresholds: { critical: [] } }, /expected at least one critical metric/);
  refused({ ...base, steps: [10, 20, 30], checks_per_step: 400 }, /steps × checks_per_step must be at most 1000 checks/);
  assert.equal(canarySpecSchema.safeParse({ ...base, steps: [50, 100], checks_per_step: 500, thresholds: { critical: ['error_rate'] } }).success, true);
});
