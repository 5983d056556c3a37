// The Models tree view: models and versions from the latest snapshot, refreshed by live data while
// the view is visible.
import * as vscode from 'vscode';
import type { AgentStatus } from '../../../common/api.js';
import type { LiveData } from '../live/liveData.js';
import { fleetRow, type FleetRow, type ReplicaBreakerRow, type ReplicaRow } from '../fleet/fleetRows.js';
import type { FleetWatcher } from '../fleet/fleetWatcher.js';
import { modelRows, type ModelRow, type VersionRow } from './modelRows.js';

type Node = ModelRow | VersionRow | FleetRow | ReplicaRow | ReplicaBreakerRow | { kind: 'message'; text: string };

export class ModelsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private rows: ModelRow[] = [];
  private message = '';
  private readonly subs: { dispose(): void }[] = [];
  /** The fleet's row (replicas from Prometheus) while inferscope.fleet.prometheusUrl is set. */
  private fleetRow: FleetRow | undefined;

  constructor(live: LiveData, fleet?: FleetWatcher) {
    this.subs.push(live.onSnapshot.event((s) => this.update(s)));
    if (fleet) {
      const show = () => {
        this.fleetRow = fleet.enabled ? fleetRow(fleet.prometheus!.url, fleet.view, fleet.error, fleet.chartsReplica) : undefined;
        this.changed.fire(undefined);
      };
      this.subs.push(fleet.onDidChange.event(show));
      show();
    }
  }

  /** The fleet as shown now (tests read it). */
  get fleet(): FleetRow | undefined {
    return this.fleetRow;
  }

  /** The rows shown now (tests read them). */
  get current(): readonly ModelRow[] {
    return this.rows;
  }

  update(status: AgentStatus | undefined): void {
    this.rows = status ? modelRows(status) : [];
    this.message = status && this.rows.length === 0 ? 'The model repository holds no models.' : '';
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    // No status: empty, so the view's welcome content (Start Agent, Connect…) shows.
    if (!node) {
      const models: Node[] = this.rows.length ? this.rows : this.message ? [{ kind: 'message', text: this.message }] : [];
      return this.fleetRow ? [this.fleetRow, ...models] : models;
    }
    if (node.kind === 'fleet') return node.replicas;
    if (node.kind === 'replica') return node.breakers;
    return node.kind === 'model' ? node.versions : [];
  }

  /** A version's model (TreeView.reveal needs it: selecting a row from code, as the tests do). */
  getParent(node: Node): Node | undefined {
    if (node.kind === 'replica') return this.fleetRow;
    if (node.kind === 'replicaBreaker') return this.fleetRow?.replicas.find((r) => r.breakers.includes(node));
    return node.kind === 'version' ? this.rows.find((r) => r.name === node.model) : undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'fleet' || node.kind === 'replica' || node.kind === 'replicaBreaker') {
      const children = node.kind === 'fleet' ? node.replicas.length : node.kind === 'replica' ? node.breakers.length : 0;
      const item = new vscode.TreeItem(node.label, children ? (node.kind === 'fleet' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.description = node.description;
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
      item.contextValue = node.contextValue;
      return item;
    }
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.text);
      item.iconPath = new vscode.ThemeIcon('info');
      return item;
    }
    if (node.kind === 'model') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${node.name}`;
      item.description = node.description;
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon(node.error ? 'error' : 'symbol-namespace', node.error ? new vscode.ThemeColor('errorForeground') : undefined);
      item.contextValue = node.unloaded ? 'model-unloaded' : 'model';
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${node.model}/${node.version}`;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    item.contextValue = node.contextValue;
    item.accessibilityInformation = { label: `${node.model} ${node.label}: ${node.description}` };
    return item;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
