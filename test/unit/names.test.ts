import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidModelName, isValidVersion } from '../../agent/src/repository/names.js';

test('model names cannot leave the repository', () => {
  for (const ok of ['digits', 'resnet-50', 'a.b_c', '9lives']) assert.ok(isValidModelName(ok), ok);
  for (const bad of ['', '.', '..', '../etc', 'a/b', 'a\\b', '.hidden', 'a..b', 'x'.repeat(129), 'sp ace', '%2e%2e'])
    assert.equal(isValidModelName(bad), false, bad);
});

test('versions are plain non-negative integers', () => {
  for (const ok of ['0', '1', '42', '999999999']) assert.ok(isValidVersion(ok), ok);
  for (const bad of ['', '01', '-1', '1.0', '1e3', '../1', '1234567890']) assert.equal(isValidVersion(bad), false, bad);
});
