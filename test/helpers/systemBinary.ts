// Test policy for system services (redis-server, prometheus, promtool, chromium): a suite whose
// binary is missing is skipped with the command that installs it, except in CI (CI=true), where
// a missing binary is a failure: CI must install it (.ci/run does).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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

/** The Vulkan driver of Debian's chromium: SwiftShader, a Vulkan device on the CPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * WebGPU without a GPU: Dawn (inside onnxruntime-node) on SwiftShader's Vulkan driver, through the
 * Vulkan loader (libvulkan1). Returns the driver's manifest, or a skip reason; throws under CI.
 */
export function requireSwiftShader(): { icd: string } | { skip: string } {
  const loader = spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libvulkan.so.1 "']).status === 0;
  const missing = [...(existsSync(SWIFTSHADER_ICD) ? [] : ['chromium']), ...(loader ? [] : ['libvulkan1'])];
  if (missing.length === 0) return { icd: SWIFTSHADER_ICD };
  const hint = `WebGPU tests need SwiftShader's Vulkan driver and the Vulkan loader: apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.env.CI === 'true') throw new Error(`${hint} (required in CI)`);
  console.log(`# skipping: ${hint}`);
  return { skip: hint };
}
