// The status bar item: the agent's state, request rate, degraded/down colours, and a tooltip with
// the actions a user wants at that moment.
import * as vscode from 'vscode';
import type { AgentConnection } from '../agent/agentConnection.js';
import type { LiveData } from '../live/liveData.js';
import { statusBarView } from './statusBarText.js';

export class AgentStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('inferscope.agent', vscode.StatusBarAlignment.Left, 10);
  private readonly subs: { dispose(): void }[] = [];

  constructor(
    private readonly agent: AgentConnection,
    private readonly live: LiveData,
  ) {
    this.item.name = 'Inferscope Agent';
    this.item.command = 'inferscope.focus';
    this.subs.push(agent.onDidChangeState(() => this.render()), live.onSnapshot.event(() => this.render()));
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
    const view = statusBarView(this.agent.state, remote, this.live.latest, this.live.requestsPerSecond);
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
    const tip = new vscode.MarkdownString(`**Inferscope agent**\n\n${escape(view.summary)}${copies.length ? `\n\n${copies.join(' &nbsp; ')}` : ''}\n\n${actions.join(' &nbsp; ')}`, true);
    tip.isTrusted = { enabledCommands: ['inferscope.showAgentLog', 'inferscope.restartAgent', 'inferscope.stopAgent', 'inferscope.startAgent', 'inferscope.copyAgentUrl', 'inferscope.copyGrpcAddress'] };
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
