// The Metrics webview view: resolves the panel, answers `ready` with the full state, pushes a tick
// per snapshot while visible (and does nothing while hidden), and runs the panel's buttons as
// commands.
import * as vscode from 'vscode';
import type { AgentStatus } from '../../../common/api.js';
import type { ExtensionMessage, PanelAction, PanelState, RenderedSummary, WebviewMessage, AgentView } from '../../../common/panelProtocol.js';
import type { AgentState } from '../agent/agentSupervisor.js';
import { Emitter } from '../emitter.js';
import { MetricsHistory } from '../live/metricsHistory.js';
import type { Services } from '../services.js';
import { panelHtml } from './panelHtml.js';

export const METRICS_VIEW = 'inferscope.metrics';

export class MetricsViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  readonly history = new MetricsHistory();
  private scraping = false;
  private readonly subs: { dispose(): void }[] = [];
  /** Tests read what the webview said it rendered, and the messages posted to it. */
  readonly onRendered = new Emitter<RenderedSummary>();
  lastRendered: RenderedSummary | undefined;
  posted = 0;
  html = '';
  cspSource = '';

  constructor(private readonly s: Services) {
    this.subs.push(
      s.live.onSnapshot.event((status) => void this.tick(status)),
      s.agent.onDidChangeState((state) => this.post({ type: 'agent', agent: agentView(state, this.remote()) })),
    );
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const bundle = vscode.Uri.joinPath(this.s.context.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [bundle] };
    this.cspSource = view.webview.cspSource;
    this.html = panelHtml({
      cspSource: view.webview.cspSource,
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'main.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'panel.css')).toString(),
    });
    view.webview.html = this.html;
    this.s.live.setVisible('metrics', view.visible);
    this.subs.push(
      view.webview.onDidReceiveMessage((m: WebviewMessage) => void this.receive(m)),
      view.onDidChangeVisibility(() => {
        this.s.live.setVisible('metrics', view.visible);
        if (!view.visible) this.history.forgetPrevious();
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.s.live.setVisible('metrics', false);
      }),
    );
  }

  /** Full state: on `ready` (first load, shown again, reloaded). */
  fullState(): PanelState {
    return {
      agent: agentView(this.s.agent.state, this.remote()),
      status: this.s.agent.state.kind === 'ready' ? (this.s.live.latest ?? null) : null,
      history: this.history.window.toJSON(),
      batchSizes: this.history.batchSizes,
      testMode: this.s.context.extensionMode === vscode.ExtensionMode.Test,
    };
  }

  /** Tests: press a control in the webview, as a user's click would. */
  click(action: string): Promise<boolean> {
    return this.post({ type: 'click', action });
  }

  private async tick(status: AgentStatus): Promise<void> {
    if (!this.visible || this.scraping) return;
    this.scraping = true;
    try {
      const text = await this.s.client.metricsText();
      // The agent may have stopped or been replaced while the scrape ran: a stale tick would
      // bring a dead agent's numbers back after the 'stopped' message.
      const state = this.s.agent.state;
      if (state.kind !== 'ready' || (this.s.agent.mode.kind === 'local' && state.pid !== status.agent.pid)) return;
      const point = this.history.ingest(status, text, Date.now());
      await this.post({ type: 'tick', point, status, batchSizes: this.history.batchSizes });
    } catch (err) {
      this.s.log.debug(`metrics panel: scrape failed: ${(err as Error).message}`);
    } finally {
      this.scraping = false;
    }
  }

  private async receive(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        await this.post({ type: 'state', state: this.fullState() });
        return;
      case 'rendered':
        this.lastRendered = m.summary;
        this.onRendered.fire(m.summary);
        return;
      case 'action':
        await runAction(m.action);
        return;
    }
  }

  private post(message: ExtensionMessage): Promise<boolean> {
    if (!this.view?.visible) return Promise.resolve(false);
    this.posted++;
    return Promise.resolve(this.view.webview.postMessage(message));
  }

  private remote(): string | undefined {
    return this.s.agent.mode.kind === 'remote' ? this.s.agent.mode.url : undefined;
  }

  dispose(): void {
    for (const sub of this.subs) sub.dispose();
    this.onRendered.dispose();
  }
}

function agentView(state: AgentState, remote: string | undefined): AgentView {
  return { phase: state.kind, ...('message' in state ? { message: state.message.split('\n')[0]! } : {}), ...(remote ? { remote } : {}) };
}

async function runAction(a: PanelAction): Promise<void> {
  switch (a.kind) {
    case 'breaker':
      await vscode.commands.executeCommand(a.action === 'reset' ? 'inferscope.resetBreaker' : 'inferscope.openBreaker', { model: a.model, version: a.version });
      return;
    case 'abortCanary':
      await vscode.commands.executeCommand('inferscope.abortCanary', a.id);
      return;
    case 'showCanaryReport':
      await vscode.commands.executeCommand('inferscope.showCanaryReport', a.id);
      return;
    case 'startAgent':
      await vscode.commands.executeCommand('inferscope.startAgent');
      return;
    case 'sendTestTraffic':
      await vscode.commands.executeCommand('inferscope.sendTestTraffic');
      return;
    case 'showLog':
      await vscode.commands.executeCommand('inferscope.showAgentLog');
      return;
  }
}
