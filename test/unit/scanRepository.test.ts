import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scanRepository } from '../../agent/src/repository/scanRepository.js';
import { BUNDLED_MODELS } from '../helpers/agentProcess.js';

const root = mkdtempSync(join(tmpdir(), 'inferscope-repo-'));
after(() => rmSync(root, { recursive: true, force: true }));

function model(name: string, config: unknown, versions: string[], withOnnx = true): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  for (const v of versions) {
    mkdirSync(join(dir, v), { recursive: true });
    if (withOnnx) copyFileSync(join(BUNDLED_MODELS, 'digits', '1', 'model.onnx'), join(dir, v, 'model.onnx'));
  }
}

model('good', { max_batch_size: 8 }, ['1', '3', '10']);
mkdirSync(join(root, 'good', 'examples'));
model('pinned', { default_version: '1' }, ['1', '2']);
model('badconfig', '{"max_batch_size": "eight"}', ['1']);
model('noconfig', undefined, ['1']);
model('noversions', {}, []);
model('nofile', {}, ['1'], false);
model('badpin', { default_version: '7' }, ['1']);
mkdirSync(join(root, 'bad name!'));
mkdirSync(join(root, '.hidden'));

const { models, skipped } = scanRepository(root);
const byName = new Map(models.map((m) => [m.name, m]));

test('numeric folders are versions, sorted numerically; the highest is the default', () => {
  const good = byName.get('good')!;
  assert.equal(good.error, undefined);
  assert.deepEqual(good.versions.map((v) => v.version), ['1', '3', '10']);
  assert.equal(good.defaultVersion, '10');
});

test('default_version pins the default', () => {
  assert.equal(byName.get('pinned')!.defaultVersion, '1');
});

test('a broken model is reported with its reason and does not hide the others', () => {
  assert.match(byName.get('badconfig')!.error!, /badconfig\/config\.json: field 'max_batch_size'/);
  assert.match(byName.get('noconfig')!.error!, /config\.json: missing/);
  assert.match(byName.get('noversions')!.error!, /no version folders/);
  assert.match(byName.get('badpin')!.error!, /default_version': version "7" has no folder/);
  assert.match(byName.get('nofile')!.versions[0]!.error!, /model\.onnx is missing/);
  assert.ok(byName.has('good'));
});

test('invalid folder names are skipped with the rule, hidden folders ignored', () => {
  assert.equal(byName.has('bad name!'), false);
  assert.equal(byName.has('.hidden'), false);
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!, /^bad name! \(model names are/);
});

test('a missing repository is a clear error', () => {
  assert.throws(() => scanRepository(join(root, 'nope')), /model repository .*nope does not exist or is not a folder \(--models\)/);
});
