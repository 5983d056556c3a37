// Helpers for the suites that run inside the extension host.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { InferscopeApi } from '../../extension/src/extension.js';
import { waitFor as waitUntil } from '../helpers/processes.js';

export { alive } from '../helpers/processes.js';

export async function extensionApi(): Promise<InferscopeApi> {
  const ext = vscode.extensions.getExtension<InferscopeApi>('inferscope.inferscope');
  assert.ok(ext, 'the Inferscope extension is installed in this host');
  return ext.activate();
}

/** Waits on an observable state (status bar text, tree rows, agent state), not on a fixed sleep. */
export function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  return waitUntil(cond, timeoutMs, () => `waiting for: ${what}`);
}

export async function readyAgent(api: InferscopeApi): Promise<number> {
  if (api.services.agent.state.kind !== 'ready') await api.services.agent.start();
  await waitFor('status bar says ready', () => /Inferscope: (ready|degraded)/.test(api.statusBar.text));
  return api.services.agent.pid!;
}
