// Helpers for the suites that run inside the extension host.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { InferscopeApi } from '../../extension/src/extension.js';

export async function extensionApi(): Promise<InferscopeApi> {
  const ext = vscode.extensions.getExtension<InferscopeApi>('inferscope.inferscope');
  assert.ok(ext, 'the Inferscope extension is installed in this host');
  return ext.activate();
}

/** Waits on an observable state (status bar text, tree rows, agent state), not on a fixed sleep. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function readyAgent(api: InferscopeApi): Promise<number> {
  if (api.services.agent.state.kind !== 'ready') await api.services.agent.start();
  await waitFor('status bar says ready', () => /Inferscope: (ready|degraded)/.test(api.statusBar.text));
  return api.services.agent.pid!;
}
