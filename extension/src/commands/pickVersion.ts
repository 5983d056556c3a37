// Quick picks for a model and a version, from the agent's current status.
import * as vscode from 'vscode';
import type { AgentStatus } from '../../../common/api.js';

export interface VersionRef {
  model: string;
  version: string;
}

export function isVersionRef(v: unknown): v is VersionRef {
  return typeof v === 'object' && v !== null && typeof (v as VersionRef).model === 'string' && typeof (v as VersionRef).version === 'string';
}

export async function pickVersion(status: AgentStatus, title: string, filter: (model: string, version: string) => boolean = () => true): Promise<VersionRef | undefined> {
  const items = status.models.flatMap((m) =>
    m.versions
      .filter((v) => v.breaker && filter(m.name, v.version))
      .map((v) => ({ label: `${m.name} / ${v.version}`, description: `breaker ${v.breaker!.state.replace('_', '-')}`, ref: { model: m.name, version: v.version } })),
  );
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No loaded model version to choose from.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title }))?.ref;
}

export async function pickModel(status: AgentStatus, title: string): Promise<string | undefined> {
  const ready = status.models.filter((m) => m.versions.some((v) => v.state === 'ready'));
  if (ready.length === 1) return ready[0]!.name;
  return (await vscode.window.showQuickPick(ready.map((m) => ({ label: m.name, description: `${m.versions.length} version(s)` })), { title }))?.label;
}
