// A temporary model repository holding a copy of the bundled `digits`, with its config edited.
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_MODELS } from './agentProcess.js';

export function digitsRepo(editConfig: (config: Record<string, unknown>) => void = () => {}, opts: { twinOf1?: string } = {}): string {
  const repo = mkdtempSync(join(tmpdir(), 'inferscope-repo-'));
  cpSync(join(BUNDLED_MODELS, 'digits'), join(repo, 'digits'), { recursive: true });
  // A version that is version 1 again: an identical candidate for canaries.
  if (opts.twinOf1) cpSync(join(BUNDLED_MODELS, 'digits', '1'), join(repo, 'digits', opts.twinOf1), { recursive: true });
  const file = join(repo, 'digits', 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  editConfig(config);
  writeFileSync(file, JSON.stringify(config));
  return repo;
}

/** A model made slow on purpose for overload tests: small batches and a bounded queue. */
export function slowDigitsRepo(maxQueueSize: number, defaultTimeoutMs: number): string {
  return digitsRepo((c) => {
    c.max_batch_size = 8;
    c.dynamic_batching = { max_queue_delay_ms: 0, preferred_batch_size: [], max_queue_size: maxQueueSize, default_timeout_ms: defaultTimeoutMs };
  });
}

/** The version folders of the bundled digits model ("1", "2", …), in order. */
export function digitsVersions(): string[] {
  return readdirSync(join(BUNDLED_MODELS, 'digits'))
    .filter((d) => /^[0-9]+$/.test(d))
    .sort((a, b) => Number(a) - Number(b));
}
