// Set Fleet Prometheus Credentials…: a bearer token or user:password for the fleet's Prometheus,
// kept in VS Code's secret storage under the Prometheus's URL (never in settings), or cleared.
// The fleet is read again with them at once, and the answer says whether Prometheus took them.
import * as vscode from 'vscode';
import { isPlainHttpOffMachine } from '../commands/agentCommands.js';
import { guarded } from '../commands/guard.js';
import { windowPrompts } from '../commands/prompts.js';
import type { Services } from '../services.js';
import type { FleetWatcher } from './fleetWatcher.js';
import { SET_CREDENTIALS_COMMAND, authorizationFor, authorizationKind, credentialProblem, credentialsSecretKey } from './prometheusAuth.js';

/** What the command did (extension-host tests read it). */
export interface CredentialsResult {
  stored: 'bearer' | 'basic' | 'cleared';
  /** Replicas read with the new credentials, or why the read failed. */
  replicas?: number;
  error?: string;
}

type Choice = vscode.QuickPickItem & { id: 'bearer' | 'basic' | 'clear' };

/** The secret storage's credentials for a Prometheus URL (the fleet watcher's `credentials`). */
export function storedCredentials(context: vscode.ExtensionContext): (url: string) => Promise<string | undefined> {
  return async (url) => (await context.secrets.get(credentialsSecretKey(url))) || undefined;
}

export function registerFleetCredentialsCommand(s: Services, fleet: FleetWatcher): vscode.Disposable[] {
  // While the command reads the fleet it says the outcome itself (one message, not two).
  let commandRead = false;
  const readWith = async (): Promise<Pick<CredentialsResult, 'replicas' | 'error'>> => {
    commandRead = true;
    try {
      return await readFleetWith(s, fleet);
    } finally {
      commandRead = false;
    }
  };
  return [
    vscode.commands.registerCommand(
      SET_CREDENTIALS_COMMAND,
      guarded(s, 'Set Fleet Prometheus Credentials', async (): Promise<CredentialsResult | undefined> => {
        const prompts = s.prompts ?? windowPrompts;
        const url = fleet.prometheus?.url;
        if (!url) {
          void vscode.window.showInformationMessage('Inferscope: no fleet is set: set inferscope.fleet.prometheusUrl first (the Prometheus that scrapes the replicas).', 'Open Settings').then((pick) => {
            if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'inferscope.fleet.prometheusUrl');
          });
          return undefined;
        }
        // Credentials are kept under the URL they go to: an unusable setting has none to key them by.
        if (fleet.settingProblem) throw new Error(fleet.settingProblem);
        const key = credentialsSecretKey(url);
        const now = authorizationKind(await s.context.secrets.get(key));
        const choice = await prompts.pick<Choice>(
          [
            { id: 'bearer', label: '$(key) Bearer token', description: now === 'bearer' ? 'set now' : '', detail: 'Sent as Authorization: Bearer <token>' },
            { id: 'basic', label: '$(account) User and password', description: now === 'basic' ? 'set now' : '', detail: 'Sent as Authorization: Basic (user:password)' },
            { id: 'clear', label: '$(trash) Clear the stored credentials', description: now ? '' : 'none stored', detail: 'Credentials in the URL setting, if any, are used again' },
          ],
          { title: `Prometheus credentials for ${url}` },
        );
        if (!choice) return undefined;
        if (choice.id === 'clear') {
          await s.context.secrets.delete(key);
          return { stored: 'cleared', ...(await readWith()) };
        }
        const kind = choice.id;
        const value = await prompts.input({
          title: `Prometheus credentials for ${url}`,
          prompt: kind === 'bearer' ? 'The bearer token (kept in VS Code secret storage)' : 'user:password (kept in VS Code secret storage)',
          password: true,
          ignoreFocusOut: true,
          validateInput: (v) => credentialProblem(kind, v),
        });
        if (value === undefined) return undefined;
        const problem = credentialProblem(kind, value);
        if (problem) throw new Error(problem);
        if (isPlainHttpOffMachine(url)) {
          void vscode.window.showWarningMessage(`Inferscope: ${url} is plain HTTP off this machine: the Prometheus credentials travel unencrypted. Put Prometheus behind HTTPS for anything but a trusted network.`);
        }
        await s.context.secrets.store(key, authorizationFor(kind, value));
        return { stored: kind, ...(await readWith()) };
      }),
    ),
    // Missing or refused: say so once per failure, with the way to set them (the tree row and the status bar keep saying it).
    fleet.onDidChange.event(() => {
      if (!fleet.authFailed || commandRead) return;
      void vscode.window.showWarningMessage(`Inferscope: ${fleet.error}`, 'Set Credentials').then((pick) => {
        if (pick) void vscode.commands.executeCommand(SET_CREDENTIALS_COMMAND);
      });
    }),
    // Changed elsewhere (another window): read the fleet with them too.
    s.context.secrets.onDidChange((e) => {
      const url = fleet.prometheus?.url;
      if (url && e.key === credentialsSecretKey(url)) void fleet.credentialsChanged();
    }),
  ];
}

/** Reads the fleet with the credentials now stored and says how it went. */
async function readFleetWith(s: Services, fleet: FleetWatcher): Promise<Pick<CredentialsResult, 'replicas' | 'error'>> {
  const view = await fleet.credentialsChanged();
  if (view) {
    s.log.info(`fleet: Prometheus at ${view.prometheusUrl} read with the new credentials: ${view.replicas.length} replicas`);
    void vscode.window.showInformationMessage(`Inferscope: Prometheus at ${view.prometheusUrl} answered: ${view.replicas.length} replica${view.replicas.length === 1 ? '' : 's'}.`);
    return { replicas: view.replicas.length };
  }
  const error = fleet.error ?? 'no answer';
  void vscode.window.showWarningMessage(`Inferscope: ${error}`);
  return { error };
}
