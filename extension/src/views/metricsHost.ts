// What the two hosts of the Metrics webview share — the sidebar view (metricsView.ts) and the
// dashboard in the editor area (dashboardPanel.ts): the page (strict CSP, one bundle), `ready` →
// full state, a tick per new point while visible, agent state changes, the selected model, the
// panel's buttons run as commands, and what the webview reports it rendered (tests).
import * as vscode from 'vscode';
import type { ExtensionMessage, PanelAction, PanelMode, PanelState, RenderedSummary, WebviewMessage, AgentView } from '../../../common/panelProtocol.js';
import type { AgentState } from '../agent/agentSupervisor.js';
import { Emitter } from '../emitter.js';
import type { MetricsFeed } from '../live/metricsFeed.js';
import type { MetricsHistory } from '../live/metricsHistory.js';
import type { Services } from '../services.js';
import { panelHtml } from './panelHtml.js';

export abstract class MetricsWebviewHost implements vscode.Disposable {
  protected readonly subs: { dispose(): void }[] = [];
  /** Tests read what the webview said it rendered, and the messages posted to it. */
  readonly onRendered = new Emitter<RenderedSummary>();
  lastRendered: RenderedSummary | undefined;
  posted = 0;
  html = '';
  cspSource = '';

  constructor(
    protected readonly s: Services,
    protected readonly feed: MetricsFeed,
    readonly mode: PanelMode,
  ) {
    this.subs.push(
      feed.onPoint.event(({ point, status, batchSizes }) => void this.post({ type: 'tick', point, status, batchSizes })),
      feed.onSelect.event((model) => void this.post({ type: 'select', model })),
      feed.onReset.event(() => void this.post({ type: 'state', state: this.fullState() })),
      s.agent.onDidChangeState((state) => void this.post({ type: 'agent', agent: agentView(state, this.remote()) })),
    );
  }

  protected abstract get webview(): vscode.Webview | undefined;
  abstract get visible(): boolean;

  get history(): MetricsHistory {
    return this.feed.history;
  }

  /** Scripts on, resources only from the bundle folder, the page, and the message handler. */
  protected setUp(webview: vscode.Webview, title: string): vscode.Disposable {
    const bundle = vscode.Uri.joinPath(this.s.context.extensionUri, 'dist', 'webview');
    webview.options = { enableScripts: true, localResourceRoots: [bundle] };
    this.cspSource = webview.cspSource;
    this.html = panelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, 'panel.css')).toString(),
      title,
    });
    webview.html = this.html;
    return webview.onDidReceiveMessage((m: WebviewMessage) => void this.receive(m));
  }

  /** Full state: on `ready` (first load, shown again, reloaded). */
  fullState(): PanelState {
    const selected = this.feed.selectedModel;
    return {
      agent: agentView(this.s.agent.state, this.remote()),
      status: this.s.agent.state.kind === 'ready' && this.s.live.latest ? this.feed.viewStatus(this.s.live.latest) : null,
      history: this.feed.history.window.toJSON(),
      batchSizes: this.feed.history.batchSizes,
      testMode: this.s.context.extensionMode === vscode.ExtensionMode.Test,
      mode: this.mode,
      ...(selected ? { selectedModel: selected } : {}),
      pastCanaries: this.feed.pastCanaries,
    };
  }

  /** Tests: press a control in the webview, as a user's click would. */
  click(action: string): Promise<boolean> {
    return this.post({ type: 'click', action });
  }

  /** Tests (screenshots): scroll a section into view. */
  reveal(section: string): Promise<boolean> {
    return this.post({ type: 'reveal', section });
  }

  /** Tests: click the line chart labelled `chart` at the x of time `at`, as a user's click would. */
  clickChart(chart: string, at: number): Promise<boolean> {
    return this.post({ type: 'clickChart', chart, at });
  }

  /** Tests: focus the line chart labelled `chart` and press `keys`, as a keyboard user would. */
  keysOnChart(chart: string, keys: string[]): Promise<boolean> {
    return this.post({ type: 'keysOnChart', chart, keys });
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
        await runAction(m.action, this.s);
        return;
    }
  }

  protected post(message: ExtensionMessage): Promise<boolean> {
    const webview = this.webview;
    if (!webview || !this.visible) return Promise.resolve(false);
    this.posted++;
    return Promise.resolve(webview.postMessage(message));
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

async function runAction(a: PanelAction, s: Services): Promise<void> {
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
    case 'slowestRequests':
      // On a fleet a point is a PromQL rate over several scrapes of every replica, and the records
      // are each replica's own: there is no one second of requests behind it to list.
      if (s.fleet?.enabled) {
        void vscode.window.showInformationMessage("The fleet's charts sum every replica over a rate window; each replica keeps its own request records. Open a replica's agent to see its slowest requests.");
        return;
      }
      // The point stands for the second that ended at its time.
      await vscode.commands.executeCommand('inferscope.showSlowestRequests', { model: a.model, version: a.version, since: a.at - 1000, until: a.at });
      return;
  }
}
