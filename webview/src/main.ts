// The sidebar webview's script. Foundation stub: it announces itself to the extension, which is
// the first message of the typed protocol that the metrics-panel issue builds on.
declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();
vscode.postMessage({ type: 'ready' });
