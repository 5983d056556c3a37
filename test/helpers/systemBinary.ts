// Test policy for system services (redis-server, prometheus, promtool, chromium): a suite whose
// binary is missing is skipped with the command that installs it, except in CI (CI=true), where
// a missing binary is a failure: CI must install it (.ci/run does).
import { spawnSync } from 'node:child_process';

export function findBinary(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Returns the binary's path, or a skip reason; throws under CI. */
export function requireBinary(name: string, debianPackage: string): { path: string } | { skip: string } {
  const path = findBinary(name);
  if (path) return { path };
  const hint = `${name} is not installed: apt-get install -y ${debianPackage}`;
  if (process.env.CI === 'true') throw new Error(`${hint} (required in CI)`);
  console.log(`# skipping: ${hint}`);
  return { skip: hint };
}
