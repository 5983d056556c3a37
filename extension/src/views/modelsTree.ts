// The Models tree view: models and versions from the latest snapshot, refreshed by live data while
// the view is visible.
import * as vscode from 'vscode';
import type { AgentStatus } from '../../../common/api.js';
import type { LiveData } from '../live/liveData.js';
import { modelRows, type ModelRow, type VersionRow } from './modelRows.js';

type Node = ModelRow | VersionRow | { kind: 'message'; text: string };

export class ModelsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private rows: ModelRow[] = [];
  private message = '';
  private readonly subs: { dispose(): void }[] = [];

  constructor(live: LiveData) {
    this.subs.push(live.onSnapshot.event((s) => this.update(s)));
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
    if (!node) return this.rows.length ? this.rows : this.message ? [{ kind: 'message', text: this.message }] : [];
    return node.kind === 'model' ? node.versions : [];
  }

  /** A version's model (TreeView.reveal needs it: selecting a row from code, as the tests do). */
  getParent(node: Node): Node | undefined {
    return node.kind === 'version' ? this.rows.find((r) => r.name === node.model) : undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
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
