// Read-only documents beside a request file: its last answer from each target, and comparisons.
// Kept in memory by URI; sending again to the same target updates the open document in place.
import * as vscode from 'vscode';

export const RESPONSE_SCHEME = 'inferscope-response';

export class ResponseDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** `inferscope-response:/digits.infer.json/digits v2.jsonc`: the tab reads "digits v2.jsonc". */
  static uri(requestFile: string, name: string): vscode.Uri {
    return vscode.Uri.from({ scheme: RESPONSE_SCHEME, path: `/${requestFile.replace(/[\\/]/g, '_')}/${name}` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '// This answer is gone (VS Code restarted): send the request again.\n';
  }

  /** Sets the text and shows it beside the request file, keeping the focus there. */
  async show(uri: vscode.Uri, text: string): Promise<vscode.TextDocument> {
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: false });
    return doc;
  }

  dispose(): void {
    this.changed.dispose();
    this.texts.clear();
  }
}
