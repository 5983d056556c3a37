// The request waterfall: one webview panel in the editor area, reused for each request opened. The
// extension fetches the request and its batch, builds the model (waterfallModel.ts) and posts it;
// the webview (webview/src/waterfall.ts) draws it. Shown again after being hidden, the webview
// reloads and posts `ready`, and gets the model again (no retainContextWhenHidden).
import * as vscode from 'vscode';
import type { WaterfallFromWebview, WaterfallModel, WaterfallRendered, WaterfallToWebview } from '../../../common/waterfallProtocol.js';
import { report } from '../commands/guard.js';
import { Emitter } from '../emitter.js';
import { AgentHttpError } from '../errors.js';
import type { Services } from '../services.js';
import { panelHtml } from '../views/panelHtml.js';
import { waterfallModel, type BatchWithRequests } from './waterfallModel.js';

export const WATERFALL_PANEL = 'inferscope.waterfall';

export class WaterfallPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private model: WaterfallModel | undefined;
  /** Tests read what the webview said it rendered, and the page the panel was given. */
  readonly onRendered = new Emitter<WaterfallRendered>();
  lastRendered: WaterfallRendered | undefined;
  html = '';
  cspSource = '';

  constructor(private readonly s: Services) {}

  get current(): WaterfallModel | undefined {
    return this.model;
  }

  /** Fetches the request (and its batch), shows its waterfall, and returns the model shown. */
  async open(id: string): Promise<WaterfallModel> {
    const request = await this.s.client.recordedRequest(id);
    let batch: BatchWithRequests | undefined;
    if (request.batch_id) {
      try {
        batch = await this.s.client.batch(request.batch_id);
      } catch (err) {
        // The agent keeps fewer batches than requests: an old request's batch may be gone.
        if (!(err instanceof AgentHttpError && err.status === 404)) throw err;
      }
    }
    this.model = waterfallModel(request, batch);
    this.show(this.model);
    return this.model;
  }

  private show(model: WaterfallModel): void {
    const title = `Request ${model.requestId}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, false);
      void this.post();
      return;
    }
    const bundle = vscode.Uri.joinPath(this.s.context.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(WATERFALL_PANEL, title, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [bundle] });
    this.panel = panel;
    this.cspSource = panel.webview.cspSource;
    this.html = panelHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'waterfall.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'waterfall.css')).toString(),
      title: 'Inferscope Request',
    });
    panel.webview.html = this.html;
    panel.webview.onDidReceiveMessage((m: WaterfallFromWebview) => void this.receive(m));
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private async receive(m: WaterfallFromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        await this.post();
        return;
      case 'open':
        try {
          await this.open(m.id);
        } catch (err) {
          report(this.s, 'Open Request', err);
        }
        return;
      case 'rendered':
        this.lastRendered = m.rendered;
        this.onRendered.fire(m.rendered);
        return;
    }
  }

  private post(): Thenable<boolean> {
    if (!this.panel || !this.model) return Promise.resolve(false);
    const message: WaterfallToWebview = { type: 'show', state: { model: this.model, testMode: this.s.context.extensionMode === vscode.ExtensionMode.Test } };
    return this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    this.onRendered.dispose();
  }
}
