// The dashboard: the Metrics webview opened in the editor area (`Inferscope: Open Dashboard`), one
// panel reused. The same bundle as the sidebar view, told by the full state that it is a dashboard
// (sections in a grid, taller charts with legends, a 1/5/15 min range, versions side by side), fed
// by the same history. Live data flows while it is visible; hidden, its webview is discarded and
// posts `ready` again when shown (no retainContextWhenHidden).
import * as vscode from 'vscode';
import type { MetricsFeed } from '../live/metricsFeed.js';
import type { Services } from '../services.js';
import { MetricsWebviewHost } from './metricsHost.js';

export const DASHBOARD_PANEL = 'inferscope.dashboard';

export class DashboardPanel extends MetricsWebviewHost {
  private panel: vscode.WebviewPanel | undefined;

  constructor(s: Services, feed: MetricsFeed) {
    super(s, feed, 'dashboard');
  }

  protected get webview(): vscode.Webview | undefined {
    return this.panel?.webview;
  }

  get visible(): boolean {
    return this.panel?.visible ?? false;
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Opens the dashboard, or brings the open one to the front. */
  open(): void {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_PANEL, 'Inferscope Dashboard', vscode.ViewColumn.Active, {});
    panel.iconPath = vscode.Uri.joinPath(this.s.context.extensionUri, 'resources', 'inferscope.svg');
    this.panel = panel;
    const subs = [
      this.setUp(panel.webview, 'Inferscope Dashboard'),
      panel.onDidChangeViewState(() => this.feed.setVisible(DASHBOARD_PANEL, panel.visible)),
    ];
    panel.onDidDispose(() => {
      for (const sub of subs) sub.dispose();
      if (this.panel === panel) this.panel = undefined;
      this.lastRendered = undefined;
      this.feed.setVisible(DASHBOARD_PANEL, false);
    });
    this.feed.setVisible(DASHBOARD_PANEL, panel.visible);
  }

  override dispose(): void {
    this.panel?.dispose();
    super.dispose();
  }
}
