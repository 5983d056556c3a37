// The JSON schema the extension contributes for config.json files (issue 19): generated from the
// agent's own schema and kept equal to it; it accepts what the agent accepts and underlines a typo.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { modelConfigJsonSchema } from '../../agent/src/repository/modelConfig.js';
import { ROOT } from '../helpers/agentProcess.js';

const file = join(ROOT, 'resources', 'model-config.schema.json');
const committed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

test('resources/model-config.schema.json is the agent\'s schema (run `npm run schema` after changing it)', () => {
  assert.deepEqual(committed, JSON.parse(JSON.stringify(modelConfigJsonSchema())));
});

test('the schema accepts the demo config and flags a typo, a wrong type and a bound, as the agent does', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(committed);
  assert.ok(validate(JSON.parse(readFileSync(join(ROOT, 'models', 'digits', 'config.json'), 'utf8'))), JSON.stringify(validate.errors));
  assert.equal(validate({ max_batch_sise: 8 }), false);
  assert.ok(validate.errors!.some((e) => e.keyword === 'additionalProperties' && (e.params as { additionalProperty: string }).additionalProperty === 'max_batch_sise'));
  assert.equal(validate({ max_batch_size: 'eight' }), false);
  assert.equal(validate({ max_batch_size: 1e9 }), false);
  assert.equal(validate({ dynamic_batching: { max_queue_delay_ms: 5, preferred_batch_size: [4, 8] } }), true);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { jsonValidation: { fileMatch: string[]; url: string }[] } };
  assert.deepEqual(pkg.contributes.jsonValidation.map((v) => v.url), ['./resources/model-config.schema.json']);
});
