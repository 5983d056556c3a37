// The extension's entry point: builds the services, views and commands, starts the agent (or
// connects to the remote one) and returns a small API that the extension-host tests read.
import * as vscode from 'vscode';
import { AgentConnection, type AgentMode } from './agent/agentConnection.js';
import { agentCommandLine } from './agent/agentCommandLine.js';
import { AgentSupervisor } from './agent/agentSupervisor.js';
import { RemoteAgent } from './agent/remoteAgent.js';
import { writeAgentConfigFile } from './agent/agentConfigFile.js';
import { AgentClient } from './client/agentClient.js';
import { registerAgentCommands, tokenSecretKey } from './commands/agentCommands.js';
import { registerBreakerCommands } from './commands/breakerCommands.js';
import { registerCanaryCommands } from './commands/canaryCommands.js';
import { registerModelCommands } from './commands/modelCommands.js';
import { report } from './commands/guard.js';
import { registerTrafficCommands } from './commands/trafficCommands.js';
import { registerCopyCommands } from './commands/copyCommands.js';
import { INSPECT_SCHEME, InspectorDocuments } from './inspector/inspectorDocuments.js';
import { REQUEST_FILES, RequestCodeLensProvider } from './requests/requestCodeLens.js';
import { registerRequestCommands } from './requests/requestCommands.js';
import { RESPONSE_SCHEME, ResponseDocuments } from './requests/responseDocuments.js';
import { LiveData } from './live/liveData.js';
import { FleetWatcher } from './fleet/fleetWatcher.js';
import { registerFleetCredentialsCommand, storedCredentials } from './fleet/fleetCredentials.js';
import { EndedCanaries } from './canary/endedCanaries.js';
import type { Services } from './services.js';
import { RESTART_KEYS, readSettings } from './settings.js';
import { ConfigDiagnostics } from './views/configDiagnostics.js';
import { AgentDocuments, SCHEME } from './views/agentDocuments.js';
import { METRICS_VIEW, MetricsViewProvider } from './views/metricsView.js';
import { DashboardPanel } from './views/dashboardPanel.js';
import { MetricsFeed } from './live/metricsFeed.js';
import { ModelsTreeProvider } from './views/modelsTree.js';
import { REQUESTS_VIEW, RequestsTreeProvider, registerRequestsViewCommands } from './requestsView/requestsTree.js';
import { WaterfallPanel } from './requestsView/waterfallPanel.js';
import { AgentStatusBar } from './views/statusBar.js';

export interface InferscopeApi {
  services: Services;
  statusBar: AgentStatusBar;
  models: ModelsTreeProvider;
  metrics: MetricsViewProvider;
  dashboard: DashboardPanel;
  modelsView: vscode.TreeView<unknown>;
  requests: RequestsTreeProvider;
  waterfall: WaterfallPanel;
}

let connection: AgentConnection | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<InferscopeApi> {
  const log = vscode.window.createOutputChannel('Inferscope', { log: true });
  const agentLog = vscode.window.createOutputChannel('Inferscope Agent');
  context.subscriptions.push(log, agentLog);
  const bundledModels = vscode.Uri.joinPath(context.extensionUri, 'models').fsPath;

  const makeLocal = () =>
    new AgentSupervisor({
      spec: (token) => {
        const settings = readSettings();
        const configFile = writeAgentConfigFile(context.globalStorageUri.fsPath, settings.modelDefaults);
        return agentCommandLine(context.extensionUri.fsPath, { ...settings.agent, ...(configFile ? { configFile } : {}) }, token, process.env, process.execPath);
      },
      readyTimeoutMs: readSettings().agent.readyTimeoutSeconds * 1000,
      onLine: (line) => agentLog.appendLine(line),
      log: (m) => log.info(m),
    });
  const makeRemote = (url: string) => new RemoteAgent(url, async () => context.secrets.get(tokenSecretKey(url)));
  const modeFromSettings = (): AgentMode => {
    const url = readSettings().agent.url;
    return url ? { kind: 'remote', url } : { kind: 'local' };
  };
  const initialMode = modeFromSettings();
  const agent = new AgentConnection(initialMode.kind === 'remote' ? makeRemote(initialMode.url) : makeLocal(), initialMode);
  connection = agent;
  const client = new AgentClient(() => agent.endpoint());
  const live = new LiveData(client);
  // A fleet behind the agent URL, seen through its Prometheus (fleet/).
  const fleet = new FleetWatcher({ prometheusUrl: () => readSettings().fleet.prometheusUrl, credentials: storedCredentials(context), log: (m) => log.warn(m) });
  let applying: Promise<void> = Promise.resolve();

  const services: Services = {
    context,
    agent,
    client,
    live,
    log,
    agentLog,
    bundledModels,
    fleet,
    startAgent: async () => {
      const remote = agent.mode.kind === 'remote';
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: remote ? 'Connecting to the Inferscope agent' : 'Starting the Inferscope agent', cancellable: false },
          () => agent.start(),
        );
        return true;
      } catch (err) {
        report(services, remote ? 'Connect to the agent' : 'Start the agent', err);
        return false;
      }
    },
    // Serialized: the settings listener and Connect to Remote Agent… may both ask at once.
    applyConnectionSetting: (reconnect = false) => {
      applying = applying.catch(() => undefined).then(async () => {
        const mode = modeFromSettings();
        const same = mode.kind === agent.mode.kind && (mode.kind === 'local' || (agent.mode.kind === 'remote' && agent.mode.url === mode.url));
        if (same && !reconnect && agent.state.kind === 'ready') return;
        if (!same) await agent.use(mode.kind === 'remote' ? makeRemote(mode.url) : makeLocal(), mode);
        else if (reconnect && mode.kind === 'remote') await agent.stop(); // the token may have changed
        await services.startAgent();
      });
      return applying;
    },
  };

  const docs = new AgentDocuments(client);
  // Ended canaries kept whole: their reports open from the panel's down state (issue 19).
  const endedCanaries = new EndedCanaries((id) => client.canary(id), docs);
  const responses = new ResponseDocuments();
  const inspector = new InspectorDocuments(services);
  const requestLenses = new RequestCodeLensProvider(services);
  const statusBar = new AgentStatusBar(agent, live, fleet);
  const models = new ModelsTreeProvider(live, fleet);
  // The sidebar Metrics view and the dashboard share one history and the tree's selected model.
  const metricsFeed = new MetricsFeed(services);
  const metrics = new MetricsViewProvider(services, metricsFeed);
  const dashboard = new DashboardPanel(services, metricsFeed);
  const tree = vscode.window.createTreeView('inferscope.models', { treeDataProvider: models, showCollapseAll: true });
  // Recorded requests and their waterfalls (issue 17).
  const requests = new RequestsTreeProvider(services);
  const waterfall = new WaterfallPanel(services);
  const requestsTree = vscode.window.createTreeView(REQUESTS_VIEW, { treeDataProvider: requests });
  requests.view = requestsTree;
  context.subscriptions.push(
    new ConfigDiagnostics(live, agent),
    live.onSnapshot.event((status) => void endedCanaries.onSnapshot(status)),
    docs,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, docs),
    statusBar,
    models,
    tree,
    metrics,
    vscode.window.registerWebviewViewProvider(METRICS_VIEW, metrics),
    dashboard,
    metricsFeed,
    vscode.commands.registerCommand('inferscope.openDashboard', () => dashboard.open()),
    tree.onDidChangeSelection((e) => {
      const node = e.selection[0];
      if (node && (node.kind === 'model' || node.kind === 'version')) metricsFeed.select(node.kind === 'model' ? node.name : node.model);
      // A fleet: a replica's row shows its own charts, the Fleet row the whole fleet's.
      if (node && (node.kind === 'replica' || node.kind === 'fleet')) fleet.showReplica(node.kind === 'replica' ? node.instance : undefined);
    }),
    { dispose: () => fleet.dispose() },
    tree.onDidChangeVisibility((e) => {
      live.setVisible('models', e.visible);
      fleet.setVisible('models', e.visible);
      if (e.visible) void live.refresh().catch(() => undefined);
    }),
    { dispose: () => live.dispose() },
    agent.onDidChangeState((state) => {
      live.agentStateChanged(state);
      void vscode.commands.executeCommand('setContext', 'inferscope.agentState', state.kind);
      if (state.kind !== 'ready') models.update(undefined);
      else void live.refresh().catch(() => undefined);
      // A failed start is reported by whoever started it; giving up after crashes has no caller.
      if (state.kind === 'failed' && agent.mode.kind === 'local' && /crashed \d+ times/.test(state.message)) {
        void vscode.window.showErrorMessage(`Inferscope: ${state.message.split('\n')[0]}`, 'Show Log', 'Start Agent').then((pick) => {
          if (pick === 'Show Log') agentLog.show(true);
          if (pick === 'Start Agent') void services.startAgent();
        });
      } else if (state.kind === 'crashed') {
        void vscode.window.setStatusBarMessage(`Inferscope: the agent crashed; restarting in ${(state.restartInMs / 1000).toFixed(1)} s`, 5000);
      }
    }),
    vscode.commands.registerCommand('inferscope.refreshModels', () => live.refresh().catch((err: Error) => report(services, 'Refresh Models', err))),
    ...registerAgentCommands(services, docs),
    ...registerBreakerCommands(services),
    ...registerCanaryCommands(services, docs),
    ...registerTrafficCommands(services),
    ...registerModelCommands(services),
    ...registerFleetCredentialsCommand(services, fleet),
    // Request files, copy curl/token, the model inspector (issue 19).
    responses,
    vscode.workspace.registerTextDocumentContentProvider(RESPONSE_SCHEME, responses),
    inspector,
    vscode.workspace.registerTextDocumentContentProvider(INSPECT_SCHEME, inspector),
    inspector.register(),
    requestLenses,
    vscode.languages.registerCodeLensProvider(REQUEST_FILES, requestLenses),
    ...registerRequestCommands(services, responses),
    ...registerCopyCommands(services),
    requests,
    requestsTree,
    waterfall,
    requestsTree.onDidChangeVisibility((e) => requests.setVisible(e.visible)),
    ...registerRequestsViewCommands(services, requests, waterfall),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('inferscope.fleet.prometheusUrl')) fleet.configure();
      if (e.affectsConfiguration('inferscope.agent.url')) {
        await services.applyConnectionSetting!();
        return;
      }
      if (!RESTART_KEYS.some((k) => e.affectsConfiguration(k)) || agent.state.kind !== 'ready' || agent.mode.kind === 'remote') return;
      const pick = await vscode.window.showInformationMessage('Inferscope: this setting takes effect when the agent restarts.', 'Restart Agent');
      if (pick) await vscode.commands.executeCommand('inferscope.restartAgent');
    }),
  );
  live.setVisible('models', tree.visible);
  fleet.setVisible('models', tree.visible);
  requests.setVisible(requestsTree.visible);
  void vscode.commands.executeCommand('setContext', 'inferscope.agentState', agent.state.kind);

  if (readSettings().agent.autoStart) void services.startAgent();
  log.info(`Inferscope activated (${agent.mode.kind === 'remote' ? `remote agent ${agent.mode.url}` : 'local agent'}; ${vscode.env.remoteName ? `remote host ${vscode.env.remoteName}` : 'local host'})`);
  return { services, statusBar, models, metrics, dashboard, modelsView: tree as vscode.TreeView<unknown>, requests, waterfall };
}

/** VS Code waits for this promise (a few seconds) before it ends the extension host. */
export async function deactivate(): Promise<void> {
  await connection?.dispose();
  connection = undefined;
}
