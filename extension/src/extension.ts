// The VS Code extension's entry point. This is the foundation stub: it activates and reports
// where the bundled agent is; launching and supervising the agent comes with the extension issue.
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Inferscope', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('inferscope.showAgentInfo', () => {
      const agent = vscode.Uri.joinPath(context.extensionUri, 'dist', 'agent', 'main.js');
      log.info(`bundled agent: ${agent.fsPath}`);
      void vscode.window.showInformationMessage(`Inferscope agent bundle: ${agent.fsPath}`);
      return agent.fsPath;
    }),
  );
  log.info('Inferscope activated');
}

export function deactivate(): void {}
