// The agent's life cycle as the extension runs it, against the real agent: activation starts it,
// Start/Stop/Restart leave no orphan, a killed agent is restarted and the views come back, the
// crash bound stops restarts, and a remote agent started by the test is used the same way.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { alive, extensionApi, readyAgent, waitFor } from './hostHelpers.js';

export function agentSuite(): void {
  suite('agent supervision', () => {
    test('activation starts the agent and the status bar reaches ready', async () => {
      const api = await extensionApi();
      await waitFor('agent ready', () => api.services.agent.state.kind === 'ready', 60_000);
      assert.match(api.statusBar.text, /Inferscope: ready/);
      const ep = api.services.agent.endpoint()!;
      assert.match(ep.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      // Launched with --grpc-port 0: the ready state carries the free port the agent picked.
      const ready = api.services.agent.state;
      assert.ok(ready.kind === 'ready' && ready.url === ep.url, JSON.stringify(ready));
      assert.match(ready.grpcAddress ?? '', /^127\.0\.0\.1:\d+$/);
      assert.notEqual(ready.grpcAddress!.split(':')[1], new URL(ep.url).port);
      // The token is required: the control API refuses a request without it.
      assert.equal((await fetch(`${ep.url}/api/v1/status`)).status, 401);
      const status = await api.services.client.status();
      assert.equal(status.agent.pid, api.services.agent.pid);
    });

    test('the Models view subscribes to live events only while it is visible', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.focus');
      await waitFor('live subscription while the view is visible', () => api.services.live.subscribed);
      await waitFor('a snapshot over SSE', () => api.services.live.streamState === 'open' && api.services.live.latest !== undefined);
      await waitFor('tree rows', () => api.models.current.some((m) => m.name === 'digits'));
      await vscode.commands.executeCommand('workbench.view.explorer');
      await waitFor('no subscription once hidden', () => !api.services.live.subscribed);
    });

    test('Stop, Start and Restart work and leave no orphan process', async () => {
      const api = await extensionApi();
      const first = await readyAgent(api);
      assert.equal(await vscode.commands.executeCommand('inferscope.stopAgent'), true);
      assert.equal(api.services.agent.state.kind, 'stopped');
      await waitFor(`agent pid ${first} gone after Stop`, () => !alive(first), 10_000);
      assert.match(api.statusBar.text, /stopped/);

      assert.equal(await vscode.commands.executeCommand('inferscope.startAgent'), true);
      const second = await readyAgent(api);
      assert.notEqual(second, first);

      assert.equal(await vscode.commands.executeCommand('inferscope.restartAgent'), true);
      const third = await readyAgent(api);
      assert.notEqual(third, second);
      await waitFor(`agent pid ${second} gone after Restart`, () => !alive(second), 10_000);
    });

    test('a killed agent is restarted and the Models tree recovers', async () => {
      const api = await extensionApi();
      const pid = await readyAgent(api);
      const states: string[] = [];
      const sub = api.services.agent.onDidChangeState((s) => states.push(s.kind));
      process.kill(pid, 'SIGKILL');
      await waitFor('crashed, then ready again', () => states.includes('crashed') && api.services.agent.state.kind === 'ready', 30_000);
      sub.dispose();
      assert.notEqual(api.services.agent.pid, pid);
      await waitFor('tree shows digits again', () => api.models.current.some((m) => m.name === 'digits' && m.versions.length === 3));
    });

    test('a repository with one broken model starts at once, degraded: the good model serves, the broken one is shown with its reason', async () => {
      const api = await extensionApi();
      const models = join(vscode.extensions.getExtension('inferscope.inferscope')!.extensionPath, 'models');
      const repo = mkdtempSync(join(tmpdir(), 'inferscope-degraded-'));
      cpSync(join(models, 'digits'), join(repo, 'digits'), { recursive: true });
      mkdirSync(join(repo, 'typo', '1'), { recursive: true });
      copyFileSync(join(models, 'digits', '1', 'model.onnx'), join(repo, 'typo', '1', 'model.onnx'));
      writeFileSync(join(repo, 'typo', 'config.json'), JSON.stringify({ max_batch_sise: 8 }));
      const settings = vscode.workspace.getConfiguration('inferscope');
      await settings.update('agent.modelRepository', repo, vscode.ConfigurationTarget.Global);
      try {
        const started = Date.now();
        // Before: the agent never became ready (/v2/health/ready stays 503) and the start failed after 60 s.
        assert.equal(await vscode.commands.executeCommand('inferscope.restartAgent'), true);
        assert.ok(Date.now() - started < 20_000, `ready after ${Date.now() - started} ms`);
        assert.equal(api.services.agent.state.kind, 'ready');
        await waitFor('the tree shows the broken model with its reason', () => api.models.current.some((m) => m.name === 'typo' && m.error && /max_batch_sise/.test(m.tooltip)));
        await waitFor('the status bar says degraded, and why', () => /Inferscope: degraded/.test(api.statusBar.text) && /Not serving: typo/.test(api.statusBar.tooltip));
        assert.equal(api.statusBar.backgroundColor, 'statusBarItem.warningBackground');
        // The Problems panel points at the field the agent refused.
        const typoConfig = vscode.Uri.file(join(repo, 'typo', 'config.json'));
        await waitFor('a problem on typo/config.json', () => vscode.languages.getDiagnostics(typoConfig).some((d) => /unknown field 'max_batch_sise'/.test(d.message) && d.source === 'Inferscope agent'));
        const { url, token } = api.services.agent.endpoint()!;
        const answer = await fetch(`${url}/v2/models/digits/infer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }] }),
        });
        assert.equal(answer.status, 200, 'the good model serves');
      } finally {
        await settings.update('agent.modelRepository', undefined, vscode.ConfigurationTarget.Global);
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        await vscode.commands.executeCommand('inferscope.restartAgent');
        await readyAgent(api);
        rmSync(repo, { recursive: true, force: true });
      }
    });

    test('after 5 crashes in 3 minutes the agent is not restarted, and Start brings it back', async () => {
      const api = await extensionApi();
      // A deliberate start forgives earlier crashes: the budget starts full.
      await vscode.commands.executeCommand('inferscope.restartAgent');
      for (let i = 1; i <= 5; i++) {
        await waitFor(`ready before crash ${i}`, () => api.services.agent.state.kind === 'ready', 30_000);
        process.kill(api.services.agent.pid!, 'SIGKILL');
        await waitFor(`crash ${i} noticed`, () => api.services.agent.state.kind !== 'ready', 10_000);
      }
      await waitFor('gave up', () => api.services.agent.state.kind === 'failed', 10_000);
      const state = api.services.agent.state;
      assert.ok(state.kind === 'failed' && /crashed 5 times in 3 minutes/.test(state.message), JSON.stringify(state));
      assert.match(api.statusBar.text, /down/);
      assert.equal(api.statusBar.backgroundColor, 'statusBarItem.errorBackground');
      assert.equal(await vscode.commands.executeCommand('inferscope.startAgent'), true);
      await readyAgent(api);
    });

    test('a wrong remote URL is checked first: the local agent keeps running (issue 19)', async () => {
      const api = await extensionApi();
      const pid = await readyAgent(api);
      // Port 9 (discard): nothing listens there.
      assert.equal(await vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url: 'http://127.0.0.1:9', token: '' }), false);
      assert.equal(api.services.agent.mode.kind, 'local');
      assert.equal(api.services.agent.state.kind, 'ready');
      assert.equal(api.services.agent.pid, pid, 'the same local agent, never stopped');
      assert.equal(vscode.workspace.getConfiguration('inferscope').get('agent.url'), '', 'the setting is unchanged');
    });

    test('connects to a remote agent started by the test, then back to the local one', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const ext = vscode.extensions.getExtension('inferscope.inferscope')!;
      const token = 'remote-test-token-0123456789';
      const remote = spawn(process.execPath, [join(ext.extensionPath, 'dist', 'agent', 'main.js'), '--port', '0', '--grpc-port', '0', '--exit-on-stdin-close'], {
        env: { ...process.env, INFERSCOPE_TOKEN: token, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let out = '';
          remote.stdout.setEncoding('utf8').on('data', (d: string) => {
            out += d;
            const line = out.split('\n').find((l) => l.includes('"listening"'));
            if (line) resolve((JSON.parse(line) as { port: number }).port);
          });
          remote.once('exit', (code) => reject(new Error(`remote agent exited ${code}`)));
        });
        const url = `http://127.0.0.1:${port}`;
        await waitFor('remote ready', async () => (await fetch(`${url}/v2/health/ready`)).status === 200);
        const localPid = api.services.agent.pid!;
        assert.equal(await vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url, token }), true);
        assert.equal(api.services.agent.mode.kind, 'remote');
        assert.equal(api.services.agent.pid, remote.pid);
        await waitFor('local agent stopped when switching to remote', () => !alive(localPid), 10_000);
        const status = await api.services.client.status();
        assert.equal(status.agent.pid, remote.pid);
        await waitFor('tree shows the remote models', () => api.models.current.some((m) => m.name === 'digits'));
        assert.match(api.statusBar.text, /ready/);
        // The status bar says the agent is remote (issue 19).
        await waitFor('status bar says remote', () => /Inferscope: (ready|degraded) \(remote\)/.test(api.statusBar.text), 10_000);
        // The extension knows a remote agent's URL, not its gRPC port: Copy gRPC Address says so.
        const ready = api.services.agent.state;
        assert.ok(ready.kind === 'ready' && ready.grpcAddress === undefined, JSON.stringify(ready));
        await vscode.env.clipboard.writeText('unchanged');
        assert.equal(await vscode.commands.executeCommand('inferscope.copyGrpcAddress'), undefined);
        assert.equal(await vscode.env.clipboard.readText(), 'unchanged');
        assert.equal(await vscode.commands.executeCommand('inferscope.copyAgentUrl'), url);
        assert.equal(await vscode.env.clipboard.readText(), url);
        await waitFor('tooltip says the remote gRPC address is unknown', () => /gRPC address unknown for a remote agent/.test(api.statusBar.tooltip.replace(/\\(.)/g, '$1')), 10_000);
        // A wrong token is refused before anything switches: the agent in use is kept.
        assert.equal(await vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url, token: 'wrong-token-0123456789' }), false);
        assert.equal(api.services.agent.state.kind, 'ready');
        assert.equal(api.services.agent.mode.kind, 'remote');
        assert.equal((await api.services.client.status()).agent.pid, remote.pid, 'still the remote agent, with its good token');
      } finally {
        assert.equal(await vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url: '' }), true);
        remote.kill('SIGTERM');
      }
      assert.equal(api.services.agent.mode.kind, 'local');
      await readyAgent(api);
      assert.doesNotMatch(api.statusBar.text, /remote/);
    });
  });
}
