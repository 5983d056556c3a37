// The status bar item: the agent's state, request rate, degraded/down colours, and a tooltip with
// the actions a user wants at that moment. With a fleet configured and the agent (its load
// balancer) connected: the fleet's replicas and request rate, read from its Prometheus.
import * as vscode from 'vscode';
import type { AgentConnection } from '../agent/agentConnection.js';
import type { FleetWatcher } from '../fleet/fleetWatcher.js';
import { SET_CREDENTIALS_COMMAND } from '../fleet/prometheusAuth.js';
import type { LiveData } from '../live/liveData.js';
import { statusBarView } from './statusBarText.js';

export class AgentStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('inferscope.agent', vscode.StatusBarAlignment.Left, 10);
  private readonly subs: { dispose(): void }[] = [];

  constructor(
    private readonly agent: AgentConnection,
    private readonly live: LiveData,
    private readonly fleet?: FleetWatcher,
  ) {
    this.item.name = 'Inferscope Agent';
    this.item.command = 'inferscope.focus';
    this.subs.push(agent.onDidChangeState(() => this.render()), live.onSnapshot.event(() => this.render()));
    if (fleet) this.subs.push(fleet.onDidChange.event(() => this.render()), fleet.onDidChangeRate.event(() => this.render()));
    this.render();
    this.item.show();
  }

  /** What the item shows now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  /** The tooltip's markdown (tests read it). */
  get tooltip(): string {
    const tip = this.item.tooltip;
    return typeof tip === 'string' ? tip : (tip?.value ?? '');
  }

  get backgroundColor(): string | undefined {
    return (this.item.backgroundColor as vscode.ThemeColor | undefined)?.id;
  }

  render(): void {
    const remote = this.agent.mode.kind === 'remote' ? this.agent.mode.url : undefined;
    const fleet = this.fleet?.enabled ? this.fleet : undefined;
    // The item is always in sight: while connected, it keeps the fleet's reads going.
    this.fleet?.setVisible('statusBar', !!fleet && this.agent.state.kind === 'ready');
    const fleetStatus = fleet && { prometheusUrl: fleet.prometheus!.url, view: fleet.view, error: fleet.error, requestsPerSecond: fleet.requestsPerSecond };
    const view = statusBarView(this.agent.state, remote, this.live.latest, this.live.requestsPerSecond, fleetStatus);
    this.item.text = view.text;
    this.item.backgroundColor =
      view.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : view.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const running = this.agent.state.kind === 'ready' || this.agent.state.kind === 'starting';
    const actions = [
      '[$(output) Show Log](command:inferscope.showAgentLog)',
      `[$(debug-restart) Restart](command:inferscope.restartAgent)`,
      running ? '[$(debug-stop) Stop](command:inferscope.stopAgent)' : '[$(play) Start](command:inferscope.startAgent)',
    ];
    // Beside the addresses: copy them (the gRPC one only when it is known).
    const state = this.agent.state;
    const copies =
      state.kind === 'ready'
        ? ['[$(copy) Copy URL](command:inferscope.copyAgentUrl)', ...(state.grpcAddress ? ['[$(copy) Copy gRPC Address](command:inferscope.copyGrpcAddress)'] : [])]
        : [];
    if (fleet) copies.push(`[$(key) Prometheus Credentials](command:${SET_CREDENTIALS_COMMAND})`);
    const tip = new vscode.MarkdownString(`**Inferscope ${fleet ? 'fleet' : 'agent'}**\n\n${escape(view.summary)}${copies.length ? `\n\n${copies.join(' &nbsp; ')}` : ''}\n\n${actions.join(' &nbsp; ')}`, true);
    tip.isTrusted = { enabledCommands: ['inferscope.showAgentLog', 'inferscope.restartAgent', 'inferscope.stopAgent', 'inferscope.startAgent', 'inferscope.copyAgentUrl', 'inferscope.copyGrpcAddress', SET_CREDENTIALS_COMMAND] };
    this.item.tooltip = tip;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
