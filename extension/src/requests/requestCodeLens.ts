// CodeLens actions above `*.infer.json` files: Send to <model>, one per ready version, Compare.
// The lenses follow the agent: refreshed when it starts or stops and when its models change.
import * as vscode from 'vscode';
import type { Services } from '../services.js';
import { parseRequestText } from './requestBody.js';
import { requestLenses, servedModels } from './requestLenses.js';
import { requestTarget } from './requestTarget.js';

export const REQUEST_FILES: vscode.DocumentSelector = [{ pattern: '**/*.infer.json' }];

export class RequestCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subs: { dispose(): void }[] = [];
  /** The served models and versions the lenses were last built from. */
  private shown = '';

  constructor(private readonly s: Services) {
    this.subs.push(
      s.live.onSnapshot.event((status) => {
        const now = JSON.stringify(servedModels(status));
        if (now !== this.shown) this.changed.fire();
      }),
      s.agent.onDidChangeState(() => this.changed.fire()),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const up = this.s.agent.state.kind === 'ready';
    const status = up ? (this.s.live.latest ?? (await this.s.live.refresh().catch(() => undefined))) : undefined;
    const models = up ? servedModels(status) : undefined;
    this.shown = JSON.stringify(models ?? []);
    const parsed = parseRequestText(doc.getText());
    const target = requestTarget(parsed.ok ? parsed.body : undefined, doc.uri.path, models?.map((m) => m.name) ?? []);
    const top = new vscode.Range(0, 0, 0, 0);
    return requestLenses(target, models).map(
      (spec) => new vscode.CodeLens(top, { title: spec.title, tooltip: spec.tooltip, command: spec.command, arguments: [{ ...spec.arg, uri: doc.uri.toString() }] }),
    );
  }

  dispose(): void {
    for (const sub of this.subs) sub.dispose();
    this.changed.dispose();
  }
}
