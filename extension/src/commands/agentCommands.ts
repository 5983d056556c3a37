// Start, Stop, Restart, Show Log, Open Metrics, Connect to Remote Agent, Copy Agent URL, Copy gRPC Address.
import * as vscode from 'vscode';
import { probeAgent } from '../agent/remoteProbe.js';
import type { Services } from '../services.js';
import { copyAnswer, type CopyTarget } from '../agent/agentAddress.js';
import { SECTION } from '../settings.js';
import { AgentDocuments } from '../views/agentDocuments.js';
import { guarded, requireAgent } from './guard.js';

/** http:// to a host other than this machine: a bearer token would cross the network in clear. */
export function isPlainHttpOffMachine(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) && !u.hostname.startsWith('127.');
  } catch {
    return false;
  }
}

export function tokenSecretKey(url: string): string {
  return `inferscope.agent.token:${url.replace(/\/+$/, '')}`;
}

/**
 * Copies the agent's URL or gRPC address and says so; with nothing to copy (agent down, gRPC address
 * unknown) it says that instead: information, not an error. Resolves with the copied text (tests).
 */
async function copyAddress(s: Services, target: CopyTarget): Promise<string | undefined> {
  const remote = s.agent.mode.kind === 'remote';
  const answer = copyAnswer(target, s.agent.state, remote);
  if (answer.kind === 'none') {
    // Not awaited: a notification resolves only when dismissed.
    const start = remote ? 'Connect' : 'Start Agent';
    void vscode.window.showInformationMessage(answer.message, ...(answer.offerStart ? [start] : [])).then((pick) => {
      if (pick) void s.startAgent();
    });
    return undefined;
  }
  await vscode.env.clipboard.writeText(answer.text);
  void vscode.window.showInformationMessage(answer.message);
  return answer.text;
}

export function registerAgentCommands(s: Services, docs: AgentDocuments): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg('inferscope.startAgent', guarded(s, 'Start Agent', async () => s.startAgent())),
    reg(
      'inferscope.stopAgent',
      guarded(s, 'Stop Agent', async () => {
        await s.agent.stop();
        return true;
      }),
    ),
    reg(
      'inferscope.restartAgent',
      guarded(s, 'Restart Agent', async () => {
        await s.agent.stop();
        return s.startAgent();
      }),
    ),
    reg('inferscope.showAgentLog', () => s.agentLog.show(true)),
    reg('inferscope.showExtensionLog', () => s.log.show(true)),
    reg('inferscope.focus', () => vscode.commands.executeCommand('inferscope.models.focus')),
    reg('inferscope.copyAgentUrl', guarded(s, 'Copy Agent URL', () => copyAddress(s, 'url'))),
    reg('inferscope.copyGrpcAddress', guarded(s, 'Copy gRPC Address', () => copyAddress(s, 'grpc'))),
    reg(
      'inferscope.openMetrics',
      guarded(s, 'Open Metrics', async () => {
        requireAgent(s);
        const uri = AgentDocuments.metricsUri();
        docs.refresh(uri);
        const doc = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(doc, { preview: true });
        return doc.getText();
      }),
    ),
    reg(
      'inferscope.connectRemoteAgent',
      guarded(s, 'Connect to Remote Agent', async (args?: { url: string; token?: string }) => {
        const config = vscode.workspace.getConfiguration(SECTION);
        let url = args?.url;
        let token = args?.token;
        if (url === undefined) {
          const current = config.get<string>('agent.url', '');
          const pick = await vscode.window.showQuickPick(
            [
              { label: '$(remote) Connect to an agent URL…', id: 'remote' },
              { label: '$(vm) Use the local agent (launched by VS Code)', id: 'local', description: current ? `now: ${current}` : 'in use' },
            ],
            { title: 'Inferscope: Connect to Remote Agent' },
          );
          if (!pick) return false;
          if (pick.id === 'local') url = '';
          else {
            url = await vscode.window.showInputBox({
              title: 'Agent URL',
              value: current || 'http://127.0.0.1:8000',
              prompt: 'The address of a running Inferscope agent (or a load balancer in front of replicas)',
              validateInput: (v) => (/^https?:\/\/[^\s/]+(\/.*)?$/.test(v.trim()) ? undefined : 'expected http://host:port'),
            });
            if (url === undefined) return false;
            token = await vscode.window.showInputBox({ title: 'Agent token', prompt: "The agent's INFERSCOPE_TOKEN (kept in VS Code's secret storage; empty if it has none)", password: true });
            if (token === undefined) return false;
          }
        }
        url = url.trim().replace(/\/+$/, '');
        if (url && token && isPlainHttpOffMachine(url)) {
          void vscode.window.showWarningMessage(`Inferscope: ${url} is plain HTTP off this machine: the token travels unencrypted. Put the agent behind HTTPS (a TLS-terminating proxy) for anything but a trusted network.`);
        }
        if (url) {
          // Check first: a wrong URL or token must not take down the agent in use.
          const problem = await probeAgent(url, token ?? (await s.context.secrets.get(tokenSecretKey(url))) ?? '', AbortSignal.timeout(5000)).then(
            (probed) => (probed.loaded ? undefined : `${url} is still loading its models; retry shortly`),
            (err: Error) => err.message,
          );
          if (problem) {
            s.log.warn(`Connect to Remote Agent: ${problem}; the agent in use is kept`);
            void vscode.window.showErrorMessage(`Inferscope: cannot use ${url}: ${problem}. The agent in use is kept.`, 'Retry', 'Use Local Agent').then((pick) => {
              if (pick === 'Retry') void vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url, ...(token !== undefined ? { token } : {}) });
              if (pick === 'Use Local Agent') void vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url: '' });
            });
            return false;
          }
        }
        if (url && token !== undefined) await s.context.secrets.store(tokenSecretKey(url), token);
        const unchanged = url === config.get<string>('agent.url', '').trim().replace(/\/+$/, '');
        await config.update('agent.url', url, vscode.ConfigurationTarget.Global);
        // Same URL again: connect afresh (the token may be new). A new URL: switch and connect.
        await s.applyConnectionSetting?.(unchanged);
        return s.agent.state.kind === 'ready';
      }),
    ),
  ];
}
