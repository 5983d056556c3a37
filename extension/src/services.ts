// What commands and views share: the agent connection, the HTTP client, live data and the logs.
import type * as vscode from 'vscode';
import type { AgentConnection } from './agent/agentConnection.js';
import type { AgentClient } from './client/agentClient.js';
import type { LiveData } from './live/liveData.js';
import type { Prompts } from './commands/prompts.js';
import type { FleetWatcher } from './fleet/fleetWatcher.js';

export interface Services {
  context: vscode.ExtensionContext;
  agent: AgentConnection;
  client: AgentClient;
  live: LiveData;
  /** The extension's own log. */
  log: vscode.LogOutputChannel;
  /** The agent's stdout/stderr. */
  agentLog: vscode.OutputChannel;
  /** The bundled demo model repository. */
  bundledModels: string;
  /** Starts the agent (or connects to the remote one) with a progress notification. */
  startAgent(): Promise<boolean>;
  /** Switches between the local and a remote agent to match the settings, and connects. */
  applyConnectionSetting?(reconnect?: boolean): Promise<void>;
  /** Replaces the quick picks, input boxes and message buttons of the commands that use it (extension-host tests answer them). */
  prompts?: Prompts;
  /** The fleet behind the agent URL, read from its Prometheus (setting inferscope.fleet.prometheusUrl). */
  fleet?: FleetWatcher;
}
