// Inspect Model Version: a read-only Markdown document per version (`inferscope-model:/digits/v2.md`),
// fetched afresh each time it is opened or the command runs again.
import * as vscode from 'vscode';
import { guarded, requireAgent } from '../commands/guard.js';
import { isVersionRef, pickVersion } from '../commands/pickVersion.js';
import type { Services } from '../services.js';
import { inspectionMarkdown } from './inspectionMarkdown.js';

export const INSPECT_SCHEME = 'inferscope-model';

export class InspectorDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly s: Services) {}

  static uri(model: string, version: string): vscode.Uri {
    return vscode.Uri.from({ scheme: INSPECT_SCHEME, path: `/${model}/v${version}.md` });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const m = /^\/([^/]+)\/v([^/]+)\.md$/.exec(uri.path);
    if (!m) throw new Error(`no such Inferscope document: ${uri.toString()}`);
    const [model, version] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const [inspection, status] = await Promise.all([this.s.client.inspect(model, version), this.s.client.status().catch(() => undefined)]);
    const v = status?.models.find((x) => x.name === model)?.versions.find((x) => x.version === version);
    return inspectionMarkdown(inspection, v);
  }

  /** The command: a version row, { model, version }, or a pick. Resolves with the page's text (tests). */
  register(): vscode.Disposable {
    return vscode.commands.registerCommand(
      'inferscope.inspectVersion',
      guarded(this.s, 'Inspect Model Version', async (arg?: unknown): Promise<string | undefined> => {
        requireAgent(this.s);
        const ref = isVersionRef(arg) ? arg : await pickVersion(await this.s.client.status(), 'Inferscope: Inspect which model version?');
        if (!ref) return undefined;
        const uri = InspectorDocuments.uri(ref.model, ref.version);
        this.changed.fire(uri);
        const doc = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(doc, { preview: true });
        return doc.getText();
      }),
    );
  }

  dispose(): void {
    this.changed.dispose();
  }
}
