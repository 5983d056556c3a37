// Read-only documents the agent provides: `inferscope:/metrics.prom` (the raw Prometheus text of
// /metrics, the agent's own `inferscope_*` series first)
// and `inferscope:/canaries/<id>.md` (a canary's report; Show Canary Report opens it as
// `inferscope:/canaries/<id>/Canary digits 1 → 2, 14.02.13.md`, so its tab says which canary).
// Re-opened documents are fetched afresh.
import * as vscode from 'vscode';
import type { Canary } from '../../../common/api.js';
import { canaryReport, REJUDGE_ALPHAS } from '../canary/canaryReport.js';
import { reportFileName } from '../canary/canaryReportPick.js';
import type { AgentClient } from '../client/agentClient.js';
import { inferscopeFirst } from './metricsOrder.js';

export const SCHEME = 'inferscope';

export class AgentDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Reports of canaries that ended, kept so they open even after the agent stops. */
  private readonly canaries = new Map<string, Canary>();
  /** The readable URI each canary's report was opened with (its tab name). */
  private readonly readable = new Map<string, vscode.Uri>();

  constructor(private readonly client: AgentClient) {}

  static metricsUri(): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: '/metrics.prom' });
  }

  static canaryUri(id: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: `/canaries/${id}.md` });
  }

  /** The report's URI with a readable file name (the tab shows it), the same one every time for a canary. */
  reportUri(c: Pick<Canary, 'id' | 'model' | 'baseline' | 'candidate' | 'started_at'>): vscode.Uri {
    let uri = this.readable.get(c.id);
    if (!uri) {
      uri = vscode.Uri.from({ scheme: SCHEME, path: `/canaries/${encodeURIComponent(c.id)}/${reportFileName(c)}` });
      this.readable.set(c.id, uri);
    }
    return uri;
  }

  /** A canary already seen (started or ended here, or a report opened). */
  known(id: string): Canary | undefined {
    return this.canaries.get(id);
  }

  remember(c: Canary): void {
    this.canaries.set(c.id, c);
    this.changed.fire(AgentDocuments.canaryUri(c.id));
    const readable = this.readable.get(c.id);
    if (readable) this.changed.fire(readable);
  }

  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    if (uri.path === '/metrics.prom') return inferscopeFirst(await this.client.metricsText());
    const m = /^\/canaries\/([^/]+)(?:\.md|\/[^/]+\.md)$/.exec(uri.path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const known = this.canaries.get(id);
      const canary = known && known.state !== 'running' ? known : await this.client.canary(id).catch((err: Error) => {
        if (known) return known;
        throw err;
      });
      this.canaries.set(id, canary);
      // Re-judged by the agent at a few alphas; an agent that is gone leaves the section out.
      const alphas = [...new Set([...REJUDGE_ALPHAS, canary.thresholds.alpha])];
      const rejudged = canary.checks.length ? await Promise.all(alphas.map((a) => this.client.rejudgeCanary(id, a))).catch(() => undefined) : undefined;
      return canaryReport(canary, rejudged);
    }
    throw new Error(`no such Inferscope document: ${uri.toString()}`);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
