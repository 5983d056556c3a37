// The same extension-host suites on VS Code desktop, downloaded by @vscode/test-electron (for
// machines that can reach Microsoft's update server; `npm test` uses the offline code-server runner).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const tmp = mkdtempSync(join(tmpdir(), 'inferscope-electron-'));
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist', 'test', 'extension', 'index.js'),
    launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(tmp, 'user-data'), join(tmp, 'workspace')],
    extensionTestsEnv: { XDG_STATE_HOME: join(tmp, 'state') },
  });
}

main().catch((err: Error) => {
  console.error(`extension-host tests failed: ${err.message}`);
  process.exit(1);
});
