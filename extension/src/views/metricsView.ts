// The Metrics webview view (the compact sidebar): resolves the panel, answers `ready` with the full
// state, pushes a tick per snapshot while visible (and does nothing while hidden), and runs the
// panel's buttons as commands. The shared plumbing is in metricsHost.ts; the dashboard in the
// editor area (dashboardPanel.ts) hosts the same webview.
import * as vscode from 'vscode';
import type { MetricsFeed } from '../live/metricsFeed.js';
import type { Services } from '../services.js';
import { MetricsWebviewHost } from './metricsHost.js';

export const METRICS_VIEW = 'inferscope.metrics';

export class MetricsViewProvider extends MetricsWebviewHost implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;

  constructor(s: Services, feed: MetricsFeed) {
    super(s, feed, 'sidebar');
  }

  protected get webview(): vscode.Webview | undefined {
    return this.view?.webview;
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.subs.push(
      this.setUp(view.webview, 'Inferscope Metrics'),
      view.onDidChangeVisibility(() => this.feed.setVisible(METRICS_VIEW, view.visible)),
      view.onDidDispose(() => {
        this.view = undefined;
        this.feed.setVisible(METRICS_VIEW, false);
      }),
    );
    this.feed.setVisible(METRICS_VIEW, view.visible);
  }
}
