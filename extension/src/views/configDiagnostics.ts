// The Problems panel for config.json files the local agent refused: one error per model, on the
// field the agent names, cleared once the model loads (or the agent stops). A remote agent's
// repository is on another machine: nothing is shown for it.
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AgentStatus } from '../../../common/api.js';
import type { AgentConnection } from '../agent/agentConnection.js';
import type { LiveData } from '../live/liveData.js';
import { configProblems } from './configProblems.js';

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('inferscope');
  private readonly subs: { dispose(): void }[];

  constructor(live: LiveData, agent: AgentConnection) {
    this.subs = [
      live.onSnapshot.event((s) => this.show(agent.mode.kind === 'local' ? s : undefined)),
      agent.onDidChangeState((state) => {
        if (state.kind !== 'ready') this.collection.clear();
      }),
    ];
  }

  private show(status: AgentStatus | undefined): void {
    this.collection.clear();
    if (!status) return;
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    };
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const p of configProblems(status, read)) {
      const d = new vscode.Diagnostic(new vscode.Range(p.line, 0, p.line, Number.MAX_SAFE_INTEGER), p.message, vscode.DiagnosticSeverity.Error);
      d.source = 'Inferscope agent';
      byFile.set(p.file, [...(byFile.get(p.file) ?? []), d]);
    }
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.collection.dispose();
  }
}
