// The Requests tree view: the agent's recorded requests (GET /api/v1/requests), newest or slowest
// first, filtered by model/version/outcome. While the view is visible, a `request` event on the
// live stream marks the list stale and the next snapshot (once a second) fetches it again, so a
// busy agent costs one request a second and the view shows exactly what the agent holds.
import * as vscode from 'vscode';
import type { AgentEvent, RequestRecord } from '../../../common/api.js';
import { guarded } from '../commands/guard.js';
import type { Services } from '../services.js';
import { filterChoices, filterDescription, requestRows, requestsQuery, type RequestFilter, type RequestRow, type RequestSort } from './requestRows.js';
import type { WaterfallPanel } from './waterfallPanel.js';

export const REQUESTS_VIEW = 'inferscope.requests';

type Node = RequestRow | { kind: 'message'; text: string };

export class RequestsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private records: RequestRecord[] = [];
  private rows: RequestRow[] = [];
  private message = '';
  private _filter: RequestFilter = {};
  private _sort: RequestSort = 'time';
  private stale = false;
  private fetching: Promise<void> | undefined;
  private visible = false;
  private readonly subs: { dispose(): void }[] = [];
  /** Set by the extension once the tree view exists (its description shows the filter). */
  view: vscode.TreeView<Node> | undefined;

  constructor(private readonly s: Services) {
    this.subs.push(
      s.live.onEvent.event((e: AgentEvent) => {
        if (e.type === 'request') this.stale = true;
      }),
      s.live.onSnapshot.event(() => {
        if (this.stale && this.visible) void this.refresh().catch(() => undefined);
      }),
      s.agent.onDidChangeState((state) => {
        if (state.kind === 'ready') {
          if (this.visible) void this.refresh().catch(() => undefined);
          return;
        }
        this.records = [];
        this.show();
      }),
    );
  }

  /** The rows shown now (tests read them). */
  get current(): readonly RequestRow[] {
    return this.rows;
  }

  get filter(): RequestFilter {
    return this._filter;
  }

  get sort(): RequestSort {
    return this._sort;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.s.live.setVisible('requests', visible);
    if (visible) void this.refresh().catch(() => undefined);
  }

  async setFilter(f: RequestFilter): Promise<void> {
    this._filter = { ...f };
    await this.refresh();
  }

  setSort(sort: RequestSort): void {
    this._sort = sort;
    void vscode.commands.executeCommand('setContext', 'inferscope.requestsSort', sort);
    this.show();
  }

  /** Fetches the list again (one fetch at a time: a call during one waits for a fresh one). */
  async refresh(): Promise<void> {
    while (this.fetching) await this.fetching;
    this.stale = false;
    this.fetching = (async () => {
      if (!this.s.agent.endpoint()) {
        this.records = [];
        return;
      }
      this.records = await this.s.client.recordedRequests(requestsQuery(this._filter));
    })().finally(() => {
      this.fetching = undefined;
      this.show();
    });
    await this.fetching;
  }

  /** Outcomes in the records fetched (the filter offers them). */
  outcomesSeen(): string[] {
    return [...new Set(this.records.map((r) => r.outcome))];
  }

  private show(): void {
    this.rows = requestRows(this.records, this._filter, this._sort);
    const filtered = Object.keys(this._filter).length > 0;
    this.message = !this.s.agent.endpoint() ? '' : this.rows.length ? '' : filtered ? 'No recorded requests match the filter.' : 'No requests recorded yet: send some (Send Test Traffic…).';
    if (this.view) this.view.description = filterDescription(this._filter, this._sort);
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (node) return [];
    return this.rows.length ? this.rows : this.message ? [{ kind: 'message', text: this.message }] : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.text);
      item.iconPath = new vscode.ThemeIcon('info');
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = `request:${node.id}`;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    item.contextValue = node.failed ? 'request:failed' : node.slow ? 'request:slow' : 'request';
    item.command = { command: 'inferscope.openRequest', title: 'Open Request Waterfall', arguments: [node.id] };
    item.accessibilityInformation = { label: `${node.label}: ${node.description}` };
    return item;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}

export function registerRequestsViewCommands(s: Services, tree: RequestsTreeProvider, waterfall: WaterfallPanel): vscode.Disposable[] {
  void vscode.commands.executeCommand('setContext', 'inferscope.requestsSort', tree.sort);
  return [
    vscode.commands.registerCommand('inferscope.refreshRequests', guarded(s, 'Refresh Requests', () => tree.refresh())),
    // Tests (and other commands) may pass the filter; otherwise a quick pick offers it.
    vscode.commands.registerCommand(
      'inferscope.filterRequests',
      guarded(s, 'Filter Requests', async (given?: RequestFilter) => {
        let f = given;
        if (!f) {
          const choices = filterChoices(tree.filter, s.live.latest?.models ?? [], tree.outcomesSeen());
          const pick = await vscode.window.showQuickPick(
            choices.map((c) => ({ label: c.label, ...(c.description ? { description: c.description } : {}), choice: c })),
            { title: 'Filter Recorded Requests', placeHolder: filterDescription(tree.filter, 'time') || 'All requests' },
          );
          if (!pick) return;
          f = pick.choice.filter;
        }
        await tree.setFilter(f);
      }),
    ),
    vscode.commands.registerCommand('inferscope.sortRequestsByDuration', () => tree.setSort('duration')),
    // A point picked on the Metrics view's latency chart: the view shows that second's requests of
    // the version, slowest first (the filter's "All requests" goes back to all of them).
    vscode.commands.registerCommand(
      'inferscope.showSlowestRequests',
      guarded(s, 'Show Slowest Requests', async (w: { model: string; version: string; since: number; until: number }) => {
        tree.setSort('duration');
        await tree.setFilter({ model: w.model, version: w.version, since: w.since, until: w.until });
        await vscode.commands.executeCommand(`${REQUESTS_VIEW}.focus`);
        return tree.current;
      }),
    ),
    vscode.commands.registerCommand('inferscope.sortRequestsByTime', () => tree.setSort('time')),
    vscode.commands.registerCommand(
      'inferscope.openRequest',
      guarded(s, 'Open Request', async (arg?: string | RequestRow) => {
        let id = typeof arg === 'string' ? arg : arg?.id;
        if (id === undefined) {
          id = await vscode.window.showInputBox({ title: 'Open Recorded Request', prompt: "The agent's request id (r…) or the client's own id" });
          if (!id) return undefined;
        }
        return waterfall.open(id);
      }),
    ),
  ];
}
