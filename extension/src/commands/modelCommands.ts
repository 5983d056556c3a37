// Reload Model, Load Model, Unload Model: Triton's explicit model control from the Models tree (the
// model row is the argument) or the palette (pick a model). Load and reload re-read the model's
// folder; the agent swaps changed versions in without failing a request. Unload asks first.
// Argument form (tests): { model, confirmed: true }.
import * as vscode from 'vscode';
import type { Services } from '../services.js';
import { guarded, requireAgent } from './guard.js';

type Action = 'load' | 'unload';
interface ModelArg {
  model?: string;
  /** A Models tree row. */
  name?: string;
  confirmed?: boolean;
}

export function registerModelCommands(s: Services): vscode.Disposable[] {
  const command = (action: Action, title: string, wanted: (versionStates: string[]) => boolean) =>
    guarded(s, title, async (arg?: ModelArg): Promise<boolean> => {
      requireAgent(s);
      let model = arg?.model ?? arg?.name;
      if (model === undefined) {
        const status = await s.client.status();
        const items = status.models
          .filter((m) => wanted(m.versions.map((v) => v.state)))
          .map((m) => ({ label: m.name, description: m.versions.map((v) => `v${v.version} ${v.state}`).join(', ') }));
        if (items.length === 0) {
          void vscode.window.showInformationMessage(`${title}: no model to choose from.`);
          return false;
        }
        model = (await vscode.window.showQuickPick(items, { title: `Inferscope: ${title}` }))?.label;
        if (model === undefined) return false;
      }
      if (action === 'unload' && !arg?.confirmed) {
        const ok = await vscode.window.showWarningMessage(
          `Unload ${model}? Requests in flight finish; new requests are refused until it is loaded again.`,
          { modal: true },
          'Unload',
        );
        if (ok !== 'Unload') return false;
      }
      const name = model;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Inferscope: ${action === 'load' ? 'loading' : 'unloading'} ${name}…` },
        () => (action === 'load' ? s.client.loadModel(name) : s.client.unloadModel(name)),
      );
      s.log.info(`model ${name}: ${action}ed`);
      void vscode.window.setStatusBarMessage(`Inferscope: ${name} ${action === 'load' ? 'loaded' : 'unloaded'}`, 4000);
      await s.live.refresh().catch(() => undefined);
      return true;
    });
  const anyLoaded = (states: string[]) => states.some((v) => v !== 'unloaded');
  return [
    vscode.commands.registerCommand('inferscope.reloadModel', command('load', 'Reload Model', anyLoaded)),
    vscode.commands.registerCommand('inferscope.loadModel', command('load', 'Load Model', (states) => !anyLoaded(states) || states.includes('failed'))),
    vscode.commands.registerCommand('inferscope.unloadModel', command('unload', 'Unload Model', anyLoaded)),
  ];
}
