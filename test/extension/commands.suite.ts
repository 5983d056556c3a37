// The commands against the real agent: every contributed command is registered, breakers forced
// open reach the tree and the status bar, test traffic is counted by the agent, the metrics text
// opens, a canary reaches a decision and its report opens, Copy gRPC Address / Copy Agent URL copy
// addresses the agent answers on, and commands answer when the agent is down.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { BreakerStatus, Canary } from '../../common/api.js';
import type { LoadSummary } from '../../extension/src/traffic/loadGenerator.js';
import { windowPrompts } from '../../extension/src/commands/prompts.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

export function commandsSuite(): void {
  suite('commands', () => {
    test('every contributed command is registered', async () => {
      await extensionApi();
      const ext = vscode.extensions.getExtension('inferscope.inferscope')!;
      const contributed = (ext.packageJSON.contributes.commands as { command: string; category: string }[]);
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = contributed.filter((c) => !registered.has(c.command)).map((c) => c.command);
      assert.deepEqual(missing, []);
      assert.ok(contributed.every((c) => c.category === 'Inferscope'));
      assert.ok(contributed.length >= 14);
    });

    test('Force Open Circuit Breaker: in the context menu only, never inline; Reset is inline on an open breaker', () => {
      const ext = vscode.extensions.getExtension('inferscope.inferscope')!;
      const contributes = ext.packageJSON.contributes as {
        commands: { command: string; title: string }[];
        menus: Record<string, { command: string; when?: string; group?: string }[]>;
      };
      assert.equal(contributes.commands.find((c) => c.command === 'inferscope.openBreaker')?.title, 'Force Open Circuit Breaker…');
      const items = contributes.menus['view/item/context']!;
      const open = items.filter((m) => m.command === 'inferscope.openBreaker');
      assert.ok(open.length > 0, 'Force Open is in the version context menu');
      assert.ok(open.every((m) => !m.group?.startsWith('inline')), `no inline Force Open: ${JSON.stringify(open)}`);
      assert.ok(open.every((m) => !/breaker-open\b|=~ \/\^version:\/$/.test(m.when ?? '')), 'not offered on an already open breaker');
      const resetInline = items.filter((m) => m.command === 'inferscope.resetBreaker' && m.group?.startsWith('inline'));
      assert.equal(resetInline.length, 1);
      assert.match(resetInline[0]!.when!, /breaker-\(open\|half_open\)/);
    });

    test('Force Open Circuit Breaker on the default version asks first: Cancel leaves it closed, Force Open opens it', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const state = async () => (await api.services.client.status()).models.find((m) => m.name === 'digits')!.versions.find((v) => v.version === '1')!.breaker!.state;
      const others = (await api.services.client.status()).models.find((m) => m.name === 'digits')!.versions.filter((v) => v.version !== '1' && v.state === 'ready').map((v) => v.version);
      assert.ok(others.length >= 1);
      const asked: string[] = [];
      // The dialog is answered as a user would, through Services.prompts.
      const answer = (reply: string | undefined) => {
        api.services.prompts = {
          ...windowPrompts,
          message: async (kind, text, options, ...buttons) => {
            asked.push(text);
            assert.equal(kind, 'warning');
            assert.deepEqual(options, { modal: true });
            assert.deepEqual(buttons, ['Force Open']);
            return reply;
          },
        };
      };
      try {
        answer(undefined); // Cancel (Escape)
        assert.equal(await vscode.commands.executeCommand('inferscope.openBreaker', { model: 'digits', version: '1' }), undefined);
        assert.equal(asked.length, 1);
        assert.match(asked[0]!, /digits version 1 .*default version: every request to digits that names no version will be refused \(503\)/);
        assert.equal(await state(), 'closed');
        // The other versions are not the default and version 1 serves: drills, no question.
        answer('Force Open');
        for (const v of others) {
          const opened = await vscode.commands.executeCommand<BreakerStatus>('inferscope.openBreaker', { model: 'digits', version: v });
          assert.equal(opened?.state, 'open', `version ${v}`);
        }
        assert.equal(asked.length, 1);
        // Now version 1 is the last one serving: the question says so.
        assert.equal((await vscode.commands.executeCommand<BreakerStatus>('inferscope.openBreaker', { model: 'digits', version: '1' }))?.state, 'open');
        assert.equal(asked.length, 2);
        assert.match(asked[1]!, /No other version of digits is serving: every request to digits will be refused/);
      } finally {
        api.services.prompts = undefined;
        for (const v of ['1', ...others]) await api.services.client.breaker('digits', v, 'reset');
        await api.services.live.refresh();
      }
    });

    test('Force Open Circuit Breaker shows an open breaker in the tree and the status bar; Reset closes it', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      // `confirmed: true` (a keybinding's argument) skips the question.
      const opened = await vscode.commands.executeCommand<BreakerStatus>('inferscope.openBreaker', { model: 'digits', version: '1', confirmed: true });
      assert.equal(opened?.state, 'open');
      const row = () => api.models.current.find((m) => m.name === 'digits')?.versions.find((v) => v.version === '1');
      await waitFor('tree shows v1 open', () => row()?.contextValue === 'version:breaker-open');
      assert.match(row()!.description, /breaker open/);
      assert.match(row()!.tooltip, /Breaker: open \(forced\)/);
      await waitFor('status bar degraded', () => /degraded/.test(api.statusBar.text));
      assert.equal(api.statusBar.backgroundColor, 'statusBarItem.warningBackground');
      // An unversioned request to an open default version is refused, as the breaker says.
      await assert.rejects(api.services.client.infer('digits', { inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }] }), /503/);

      // The tree item is the argument when the command runs from its context menu.
      const reset = await vscode.commands.executeCommand<BreakerStatus>('inferscope.resetBreaker', row());
      assert.equal(reset?.state, 'closed');
      await waitFor('tree shows v1 closed', () => row()?.contextValue === 'version:breaker-closed');
      await waitFor('status bar ready', () => /Inferscope: ready/.test(api.statusBar.text));
    });

    test('Send Test Traffic sends the requested count, and the agent counts them', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const served = async () => (await api.services.client.status()).models.find((m) => m.name === 'digits')!.versions.reduce((n, v) => n + (v.breaker?.totals.successes ?? 0), 0);
      const before = await served();
      const summary = await vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 120, concurrency: 6 });
      assert.ok(summary);
      assert.equal(summary.completed, 120);
      assert.equal(summary.succeeded, 120);
      assert.equal(summary.failed, 0);
      assert.ok(summary.latencyMs && summary.latencyMs.p50 > 0 && summary.latencyMs.p99 >= summary.latencyMs.p50);
      assert.equal((await served()) - before, 120);
    });

    test('Stop Agent during test traffic ends the load at once and says so (no 100,000 failures, no inflated rate)', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const served = async () => (await api.services.client.status()).models.find((m) => m.name === 'digits')!.versions.reduce((n, v) => n + (v.breaker?.totals.successes ?? 0), 0);
      const before = await served();
      const traffic = vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 100_000, concurrency: 4 });
      await waitFor('the load is under way', async () => (await served()) >= before + 100, 20_000);
      assert.equal(await vscode.commands.executeCommand('inferscope.stopAgent'), true);
      const summary = await traffic;
      assert.ok(summary);
      assert.equal(summary.stoppedBecause, 'the agent stopped');
      assert.ok(summary.completed < 100_000 && summary.failed < 50, `${summary.completed} completed, ${summary.failed} failed`);
      assert.ok(summary.throughput <= summary.succeeded / summary.durationS + 1e-9);
      assert.equal(await vscode.commands.executeCommand('inferscope.startAgent'), true);
      await readyAgent(api);
    });

    test('a model config.json is validated as you type: a typo is underlined with the agent\'s schema', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferscope-schema-'));
      const file = join(dir, 'models', 'typo', 'config.json');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '{\n  "max_batch_sise": 8,\n  "instance_count": 0\n}\n');
      try {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
        await vscode.window.showTextDocument(doc);
        await waitFor('schema diagnostics on config.json', () => vscode.languages.getDiagnostics(doc.uri).length >= 2, 30_000);
        const messages = vscode.languages.getDiagnostics(doc.uri).map((d) => `${d.range.start.line}: ${d.message}`);
        assert.ok(messages.some((m) => /^1: .*max_batch_sise.*not allowed/i.test(m)), messages.join(' | '));
        assert.ok(messages.some((m) => /^2: .*(minimum|>= 1|greater)/i.test(m)), messages.join(' | '));
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('Open Metrics opens the Prometheus text', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const text = await vscode.commands.executeCommand<string>('inferscope.openMetrics');
      assert.match(text ?? '', /^# HELP inferscope_inference_requests_total /m);
      assert.ok(vscode.window.activeTextEditor?.document.uri.scheme === 'inferscope');
    });

    test('Copy gRPC Address copies 127.0.0.1:<port> of the running agent, which answers gRPC there; Copy Agent URL copies the HTTP URL', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const state = api.services.agent.state;
      assert.ok(state.kind === 'ready', state.kind);

      const copied = await vscode.commands.executeCommand<string>('inferscope.copyGrpcAddress');
      const clip = await vscode.env.clipboard.readText();
      assert.equal(clip, copied);
      assert.equal(clip, state.grpcAddress);
      const m = /^127\.0\.0\.1:(\d+)$/.exec(clip);
      assert.ok(m, `clipboard: ${clip}`);
      const grpcPort = Number(m[1]);
      const httpPort = Number(new URL(state.url).port);
      assert.ok(Number.isInteger(grpcPort) && grpcPort > 0 && grpcPort <= 65535, String(grpcPort));
      assert.notEqual(grpcPort, httpPort);
      // The address is the agent's gRPC server: ServerLive (open, no token) answers live = true.
      const live = await grpcUnary(clip, 'ServerLive');
      assert.equal(live.status, '0');
      assert.deepEqual([...live.message], [0, 0, 0, 0, 2, 0x08, 0x01]); // uncompressed, 2 bytes: field 1 (live) = true
      // The status bar tooltip shows it beside the HTTP URL.
      const tooltip = () => unescapeMarkdown(api.statusBar.tooltip);
      await waitFor('tooltip shows the gRPC address beside the URL', () => tooltip().includes(`Serving at ${state.url} and gRPC at ${clip} (pid ${state.pid})`), 10_000);
      assert.ok(tooltip().includes('(command:inferscope.copyGrpcAddress)'), tooltip());

      const url = await vscode.commands.executeCommand<string>('inferscope.copyAgentUrl');
      assert.equal(url, state.url);
      assert.equal(await vscode.env.clipboard.readText(), state.url);
      assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
    });

    test('Evaluate Canary reaches a decision under test traffic, and the report opens', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const traffic = vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 3000, concurrency: 4 });
      const canary = await vscode.commands.executeCommand<Canary>('inferscope.evaluateCanary', {
        model: 'digits',
        candidate: '2',
        steps: [50, 100],
        intervalSeconds: 0.5,
        checksPerStep: 2,
        thresholds: { min_samples: 10 },
      });
      await traffic;
      assert.ok(canary, 'the command returned the canary');
      assert.notEqual(canary.state, 'running');
      assert.ok(canary.decision === 'promote' || canary.decision === 'rollback', `decision: ${canary.decision} (${canary.reason})`);
      assert.ok(canary.checks.length >= 1);
      const report = await vscode.commands.executeCommand<string>('inferscope.showCanaryReport', canary.id);
      assert.match(report ?? '', new RegExp(`# Canary ${canary.id}: digits 1 → 2`));
      assert.match(report ?? '', /\*\*Decision:\*\* (promoted version 2|rolled back to version 1)/);
      assert.match(report ?? '', /\| error_rate \|/);
      // Evidence over time as inline SVG per metric, and the agent's re-judging: at the canary's own
      // alpha the recorded evidence decides what the canary did, at the check it did.
      assert.match(report ?? '', /^## Evidence over time$[\s\S]*^\*\*error_rate\*\*\n\n<div><svg [^\n]*<\/svg><\/div>$/m);
      const own = new RegExp(`^\\| ${canary.thresholds.alpha} \\(this canary's\\) \\| ${canary.decision} \\| ${canary.checks.length} \\|`, 'm');
      assert.match(report ?? '', own);
    });

    test('Show Canary Report: a titled picker, newest first, distinct labels with local times; the tab names the canary (issue 19)', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      // The default may have moved (Evaluate Canary above may have promoted): canary from it.
      const digits = (await api.services.client.status()).models.find((m) => m.name === 'digits')!;
      const baseline = digits.default_version ?? '1';
      const candidate = digits.versions.find((v) => v.state === 'ready' && v.version !== baseline)!.version;
      const name = `digits ${baseline} → ${candidate}`;
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const c = await api.services.client.startCanary({ model: 'digits', baseline, candidate, steps: [50, 100], interval_s: 60, checks_per_step: 1, thresholds: { alpha: 0.05 } });
        await api.services.client.abortCanary(c.id);
        ids.push(c.id);
      }
      let asked: { items: (vscode.QuickPickItem & { id?: string })[]; title: string } | undefined;
      // The picker is answered as a user would, through Services.prompts: the first (newest) item.
      api.services.prompts = {
        ...windowPrompts,
        pick: async (items, options) => {
          asked = { items: [...items], title: options.title };
          return items[0];
        },
      };
      let report: string | undefined;
      try {
        report = await vscode.commands.executeCommand<string>('inferscope.showCanaryReport');
      } finally {
        api.services.prompts = undefined;
      }
      assert.ok(asked, 'the picker was shown');
      assert.equal(asked.title, 'Inferscope: Show Canary Report');
      const order = asked.items.map((i) => i.id).filter((id): id is string => id !== undefined && ids.includes(id));
      assert.deepEqual(order, [ids[1], ids[0]], 'newest first');
      assert.equal(new Set(asked.items.map((i) => i.label)).size, asked.items.length, `distinct labels: ${asked.items.map((i) => i.label).join(' | ')}`);
      assert.ok(asked.items[0]!.label.startsWith(`${name} · `), asked.items[0]!.label);
      assert.match(asked.items[0]!.label, / · \d\d:\d\d:\d\d/);
      assert.ok((report ?? '').includes(`# Canary ${ids[1]}: ${name}`), report);
      assert.match(report ?? '', /\| Started \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(local time\) \|/);
      const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
      await waitFor(`a tab named after the canary; tabs: ${tabs().join(' | ')}`, () => tabs().some((l) => l.includes(`Canary ${name}, `) && /[\d.]+\.md$/.test(l)), 10_000);
    });

    test('Unload Model empties the model in the tree (its menu then offers Load); Load Model brings it back', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const model = () => api.models.current.find((m) => m.name === 'digits');
      assert.equal(await vscode.commands.executeCommand('inferscope.unloadModel', { model: 'digits', confirmed: true }), true);
      await waitFor('tree shows digits unloaded', () => model()?.unloaded === true);
      assert.equal(model()!.description, 'unloaded');
      assert.ok(model()!.versions.every((v) => /^unloaded/.test(v.description)));
      await assert.rejects(api.services.client.infer('digits', { inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }] }), /404 model digits\/\d+ is unloaded/);
      // From the tree: the model row is the argument.
      assert.equal(await vscode.commands.executeCommand('inferscope.loadModel', model()), true);
      await waitFor('tree shows digits ready again', () => model()?.unloaded === false && /^(\d+)\/\1 ready/.test(model()!.description));
      assert.equal(await vscode.commands.executeCommand('inferscope.reloadModel', { model: 'digits' }), true);
      const served = await api.services.client.infer('digits', { inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }] });
      assert.equal(served.model_name, 'digits');
    });

    test('commands answer "not running" instead of failing while the agent is stopped', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.stopAgent');
      assert.equal(await vscode.commands.executeCommand('inferscope.sendTestTraffic', { model: 'digits', requests: 1 }), undefined);
      assert.equal(await vscode.commands.executeCommand('inferscope.resetBreaker', { model: 'digits', version: '1' }), undefined);
      // Nothing to copy: an information message, no error, and the clipboard is left alone.
      await vscode.env.clipboard.writeText('unchanged');
      assert.equal(await vscode.commands.executeCommand('inferscope.copyGrpcAddress'), undefined);
      assert.equal(await vscode.commands.executeCommand('inferscope.copyAgentUrl'), undefined);
      assert.equal(await vscode.env.clipboard.readText(), 'unchanged');
      assert.equal(api.services.agent.state.kind, 'stopped');
      await vscode.commands.executeCommand('inferscope.startAgent');
      await readyAgent(api);
    });
  });
}

/** The status bar tooltip's markdown with its backslash escapes removed. */
function unescapeMarkdown(md: string): string {
  return md.replace(/\\(.)/g, '$1');
}

/** One unary gRPC call with an empty request over plain HTTP/2 (no client library): grpc-status and the response's framed bytes. */
function grpcUnary(address: string, rpc: string): Promise<{ status: string | undefined; message: Buffer }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://${address}`);
    session.once('error', reject);
    const req = session.request({ ':method': 'POST', ':path': `/inference.GRPCInferenceService/${rpc}`, 'content-type': 'application/grpc', te: 'trailers' });
    let status: string | undefined;
    const chunks: Buffer[] = [];
    req.setTimeout(10_000, () => req.close());
    req.on('response', (headers) => (status ??= headers['grpc-status'] as string | undefined)); // a trailers-only answer
    req.on('trailers', (trailers) => (status = trailers['grpc-status'] as string | undefined));
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ status, message: Buffer.concat(chunks) });
    });
    req.end(Buffer.from([0, 0, 0, 0, 0])); // not compressed, 0 bytes: an empty ServerLiveRequest
  });
}
