// VS Code pointed at a real local fleet (npm run fleet: two agents behind nginx, a shared Redis, a
// Prometheus scraping each replica every second), connected through the load balancer with
// inferscope.fleet.prometheusUrl set: the Models tree lists both replicas with their breakers (one
// opened on one replica shows on that replica only); the Metrics feed's request rate is the fleet's
// sum, not the rate of whichever replica answered, and one replica's alone when its row is selected
// (the GPU section: none for the whole fleet, the selected replica's own);
// Evaluate Canary, answered through the prompts
// hook, starts the canary on both replicas and follows them together to one decision; the status
// bar counts the replicas up and shows the fleet's rate; a Prometheus behind a token (a node:http
// proxy demanding one) says to set credentials, and Set Fleet Prometheus Credentials… stores the
// token in secret storage and the fleet is read with it; a replica SIGKILLed shows as down, in the
// tree and in the status bar. Skipped with the install command when nginx, redis-server or prometheus
// is missing, except in CI.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CanaryHead } from '../../common/api.js';
import type { Prompts } from '../../extension/src/commands/prompts.js';
import type { InferscopeApi } from '../../extension/src/extension.js';
import type { CredentialsResult } from '../../extension/src/fleet/fleetCredentials.js';
import { FLEET_QUESTION, type FleetEvaluation } from '../../extension/src/fleet/fleetEvaluate.js';
import { FLEET_GPU_MESSAGE } from '../../extension/src/fleet/fleetGpus.js';
import { SET_CREDENTIALS_COMMAND, SET_CREDENTIALS_TITLE, credentialsSecretKey } from '../../extension/src/fleet/prometheusAuth.js';
import { Fleet, readState, type FleetState } from '../../scripts/lib/fleet.js';
import { requireBinary } from '../helpers/systemBinary.js';
import { extensionApi, waitFor } from './hostHelpers.js';

const SCRAPE_S = 1;

/** The status bar's tooltip as read (its markdown escapes undone). */
const plain = (md: string) => md.replace(/\\(.)/g, '$1');

export function fleetSuite(): void {
  suite('fleet', () => {
    let api: InferscopeApi;
    let dir = '';
    let state: FleetState;
    let token = '';
    let example = '';
    const config = () => vscode.workspace.getConfiguration('inferscope');
    const auth = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    const replicaUrl = (i: number) => `http://127.0.0.1:${state.replicas[i]!.port}`;

    suiteSetup(async function (this: Mocha.Context) {
      const missing = [requireBinary('nginx', 'nginx'), requireBinary('redis-server', 'redis-server'), requireBinary('prometheus', 'prometheus')].find((b) => 'skip' in b) as { skip: string } | undefined;
      if (missing) {
        console.log(`# fleet suite skipped: ${missing.skip}`);
        this.skip();
      }
      this.timeout(180_000);
      api = await extensionApi();
      const root = vscode.extensions.getExtension('inferscope.inferscope')!.extensionPath;
      example = readFileSync(join(root, 'models', 'digits', 'examples', 'digit-3.json'), 'utf8');
      dir = mkdtempSync(join(tmpdir(), 'inferscope-hostfleet-'));
      // Started as a user starts it (npm run fleet), so the fleet outlives nothing of this host but its state file.
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'fleet.ts'), '--replicas', '2', '--scrape-interval', String(SCRAPE_S), '--dir', dir], {
          cwd: root,
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        p.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
        p.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
        p.once('error', reject);
        p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`npm run fleet exited ${code}:\n${text}`))));
      });
      const s = readState(dir);
      assert.ok(s, `no fleet state in ${dir}:\n${out}`);
      state = s;
      token = readFileSync(state.tokenFile, 'utf8').trim();
      await config().update('fleet.prometheusUrl', state.prometheusUrl, vscode.ConfigurationTarget.Global);
      assert.equal(await vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url: state.lbUrl, token }), true);
      await waitFor('Prometheus scrapes both replicas', async () => {
        const r = (await (await fetch(`${state.prometheusUrl}/api/v1/query?query=${encodeURIComponent('up{job="inferscope"} == 1')}`)).json()) as { data: { result: unknown[] } };
        return r.data.result.length === 2;
      });
    });

    suiteTeardown(async function (this: Mocha.Context) {
      this.timeout(60_000);
      if (!api) return;
      api.services.prompts = undefined;
      await config().update('fleet.prometheusUrl', undefined, vscode.ConfigurationTarget.Global);
      await config().update('canary.intervalSeconds', undefined, vscode.ConfigurationTarget.Global);
      await config().update('canary.checksPerStep', undefined, vscode.ConfigurationTarget.Global);
      if (api.services.agent.mode.kind === 'remote') await vscode.commands.executeCommand('inferscope.connectRemoteAgent', { url: '' });
      if (dir && readState(dir)) await Fleet.open(dir).down();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Clients sending inference requests one after another to `url` until stopped. */
    function load(urls: string[], clientsPerUrl = 2): { stop(): Promise<{ ok: number; failed: number }> } {
      let running = true;
      let ok = 0;
      let failed = 0;
      const loops = urls.flatMap((url) =>
        Array.from({ length: clientsPerUrl }, async () => {
          while (running) {
            try {
              const res = await fetch(`${url}/v2/models/digits/infer`, { method: 'POST', headers: auth(), body: example });
              await res.arrayBuffer();
              if (res.ok) ok++;
              else failed++;
            } catch {
              failed++;
            }
          }
        }),
      );
      return {
        async stop() {
          running = false;
          await Promise.all(loops);
          return { ok, failed };
        },
      };
    }

    async function prom(q: string, timeS?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
      const params = new URLSearchParams({ query: q, ...(timeS !== undefined ? { time: timeS.toFixed(3) } : {}) });
      return ((await (await fetch(`${state.prometheusUrl}/api/v1/query?${params}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    }

    test('the Models tree lists both replicas with their breakers; a breaker opened on one shows on that one', async function (this: Mocha.Context) {
      this.timeout(90_000);
      await vscode.commands.executeCommand('inferscope.models.focus');
      const names = state.replicas.map((_, i) => `r${i}`);
      await waitFor('the tree lists 2 replicas, up, with breakers', () => {
        const f = api.models.fleet;
        return f?.replicas.length === 2 && f.replicas.every((r) => r.health === 'up' && r.breakers.length > 0);
      });
      const fleet = api.models.fleet!;
      assert.deepEqual(fleet.replicas.map((r) => r.name), names);
      assert.deepEqual(fleet.replicas.map((r) => r.url).sort(), state.replicas.map((_, i) => replicaUrl(i)).sort(), 'each replica at its own address, from the Prometheus targets');
      assert.match(fleet.description, /^2 replicas$/);
      for (const r of fleet.replicas) {
        assert.ok(r.breakers.some((b) => b.model === 'digits' && b.version === '1'), JSON.stringify(r.breakers));
        assert.ok(r.breakers.every((b) => b.state === 'closed'), JSON.stringify(r.breakers));
        assert.match(r.description, /^up · 127\.0\.0\.1:\d+ · v\S+ · \d+ breakers closed$/);
      }
      // The status bar counts the replicas Prometheus sees, not the one agent behind the load balancer.
      await waitFor('the status bar says 2 of 2 replicas up', () => /^\$\(server-environment\) Inferscope: fleet: 2 of 2 replicas up( · \S+ req\/s)?$/.test(api.statusBar.text));
      assert.equal(api.statusBar.backgroundColor, undefined);
      assert.match(plain(api.statusBar.tooltip), new RegExp(`^\\*\\*Inferscope fleet\\*\\*\\n\\nThrough ${state.lbUrl}; replicas from the Prometheus at ${state.prometheusUrl}\\.`));
      // The tree's own items: Fleet first, then the models (from the replica that answered).
      const roots = (await api.models.getChildren()) as { kind: string }[];
      assert.deepEqual(roots.slice(0, 2).map((n) => n.kind), ['fleet', 'model']);

      const breaker = (action: 'open' | 'reset') => fetch(`${replicaUrl(0)}/api/v1/models/digits/versions/1/breaker`, { method: 'POST', headers: auth(), body: JSON.stringify({ action }) });
      assert.equal((await breaker('open')).status, 200);
      try {
        await waitFor('r0 shows digits v1 open, r1 all closed', () => {
          const [r0, r1] = api.models.fleet?.replicas ?? [];
          return r0?.breakers.find((b) => b.model === 'digits' && b.version === '1')?.state === 'open' && !!r1 && r1.breakers.every((b) => b.state === 'closed');
        });
        const r0 = api.models.fleet!.replicas[0]!;
        assert.match(r0.description, /digits v1 breaker open/);
        assert.equal(api.models.fleet!.description, '2 replicas, 1 with a breaker not closed');
      } finally {
        assert.equal((await breaker('reset')).status, 200);
      }
      await waitFor('r0 closed again', () => api.models.fleet?.replicas[0]?.breakers.every((b) => b.state === 'closed') === true);
    });

    test("the Metrics feed's request rate is the fleet's: both replicas' rates summed, from their counters; one replica's on demand", async function (this: Mocha.Context) {
      this.timeout(120_000);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      const windowMs = 4 * SCRAPE_S * 1000; // four scrape intervals, as the feed takes them
      const instances = state.replicas.map((r) => `127.0.0.1:${r.port}`);
      /** Waits for a point whose digits req/s is the rates of exactly these replicas together, each above zero (Prometheus at the point's time). */
      const feedIs = async (of: string[], what: string) => {
        let last = '';
        await waitFor(
          what,
          async () => {
            const w = api.metrics.history.window;
            const i = w.times.length - 1;
            const t = w.times[i];
            const v = w.series.get('rps|digits')?.[i];
            if (t === undefined || v === undefined || v === null || !(v > 0)) return false;
            const per = await prom(`sum by (instance) (rate(inferscope_inference_requests_total{model="digits"}[${windowMs}ms]))`, t / 1000);
            last = `feed ${v} at ${t}; per replica ${JSON.stringify(per.map((s) => [s.metric.instance, s.value[1]]))}`;
            const rates = per.filter((s) => of.includes(s.metric.instance!)).map((s) => Number(s.value[1]));
            const sum = rates.reduce((a, b) => a + b, 0);
            return per.length === 2 && per.every((s) => Number(s.value[1]) > 0) && rates.length === of.length && Math.abs(v - sum) <= 1e-9 * Math.max(1, sum);
          },
          60_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; last: ${last}`);
        });
      };
      // Traffic straight to each replica (not through nginx): each replica's counter grows on its own.
      const traffic = load([replicaUrl(0), replicaUrl(1)]);
      try {
        await feedIs(instances, "a point whose digits req/s is both replicas' rates together");
        // GPUs are per machine: the whole fleet's GPU section says to pick a replica (not the GPUs of whichever answered).
        assert.equal(api.metrics.fullState().status?.gpus.message, FLEET_GPU_MESSAGE);
        // The status bar's rate is the fleet's too (the same PromQL, summed over models): above zero under this traffic.
        await waitFor('the status bar shows a fleet rate above zero', () => {
          const m = /^\$\(server-environment\) Inferscope: fleet: 2 of 2 replicas up · (\S+) req\/s$/.exec(api.statusBar.text);
          return !!m && m[1] !== '0';
        }).catch((err: Error) => {
          throw new Error(`${err.message}; status bar "${api.statusBar.text}"`);
        });
        // Per replica on demand: selecting r1 in the Models tree charts r1 alone (from a fresh history); the Fleet row, the fleet again.
        await vscode.commands.executeCommand('inferscope.models.focus');
        // Selected again if the first click landed while the tree was redrawn (as a user would click again).
        await waitFor('r1 selected: the Fleet row says the charts show r1', async () => {
          if (/· charts: r1$/.test(api.models.fleet?.description ?? '')) return true;
          // Selecting the row already selected changes nothing: select the Fleet row, then r1 again.
          if (api.modelsView.selection.length) await api.modelsView.reveal(api.models.fleet!, { select: true, focus: true });
          await api.modelsView.reveal(api.models.fleet!.replicas[1], { select: true, focus: true });
          return false;
        }).catch((err: Error) => {
          throw new Error(`${err.message}; selection ${JSON.stringify(api.modelsView.selection.map((n) => (n as { id?: string }).id))}; fleet row ${api.models.fleet?.description}`);
        });
        await vscode.commands.executeCommand('inferscope.metrics.focus');
        await feedIs([instances[1]!], "a point whose digits req/s is r1's rate alone");
        // r1's own GPU series, named for r1: none on a machine without nvidia-smi (it says so), its GPUs on one with.
        assert.match(api.metrics.fullState().status?.gpus.message ?? '', new RegExp(`^${instances[1]!.replace(/\./g, '\\.')}: (no GPU metrics|\\d+ GPUs?: )`));
        await vscode.commands.executeCommand('inferscope.models.focus');
        await waitFor('the Fleet row selected: the charts show the fleet', async () => {
          if (!/charts/.test(api.models.fleet?.description ?? '')) return true;
          await api.modelsView.reveal(api.models.fleet, { select: true, focus: true });
          return false;
        });
        await vscode.commands.executeCommand('inferscope.metrics.focus');
        await feedIs(instances, "the fleet's sum again");
      } finally {
        const { ok, failed } = await traffic.stop();
        assert.ok(ok > 0 && failed === 0, `${ok} ok, ${failed} failed`);
      }
      // And Prometheus's sum is the replicas' own counters together, once it has scraped them both.
      const counter = async (i: number) => {
        const text = await (await fetch(`${replicaUrl(i)}/metrics`, { headers: auth() })).text();
        let n = 0;
        for (const m of text.matchAll(/^inferscope_inference_requests_total\{([^}]*)\} (\S+)$/gm)) if (/model="digits"/.test(m[1]!)) n += Number(m[2]);
        return n;
      };
      const own = (await counter(0)) + (await counter(1));
      await waitFor("Prometheus's fleet sum equals the replicas' counters", async () => Number((await prom('sum(inferscope_inference_requests_total{model="digits"})'))[0]?.value[1]) === own);
    });

    test('Evaluate Canary starts the canary on both replicas and follows them together to one decision', async function (this: Mocha.Context) {
      this.timeout(150_000);
      await config().update('canary.intervalSeconds', 3, vscode.ConfigurationTarget.Global);
      await config().update('canary.checksPerStep', 2, vscode.ConfigurationTarget.Global);
      const said: string[] = [];
      const titles: string[] = [];
      const prompts: Prompts = {
        pick: async (items, o) => {
          titles.push(o.title);
          const want = o.title.startsWith('Evaluate Canary (2/4)') ? '3' : o.title.startsWith('Evaluate Canary (3/4)') ? '50, 100' : o.title.startsWith('Evaluate Canary (4/4)') ? 'Quick (demo traffic)' : undefined;
          return items.find((i) => i.label === want) as never;
        },
        input: async () => undefined,
        message: async (_kind, text, _options, ...buttons) => {
          said.push(text);
          // The question before the token goes to the replicas: it names every replica's address.
          return text.startsWith(FLEET_QUESTION) ? buttons[0] : undefined;
        },
      };
      api.services.prompts = prompts;
      const before = new Set((await Promise.all([0, 1].map(async (i) => ((await (await fetch(`${replicaUrl(i)}/api/v1/canaries`, { headers: auth() })).json()) as CanaryHead[]).map((c) => c.id)))).flat());
      const traffic = load([state.lbUrl], 4); // through nginx: the fleet's traffic, split by each replica's canary
      let result: FleetEvaluation | undefined;
      try {
        result = await vscode.commands.executeCommand<FleetEvaluation>('inferscope.evaluateCanary');
      } finally {
        await traffic.stop();
        api.services.prompts = undefined;
      }
      assert.ok(result && result.kind === 'fleet', `a fleet evaluation: ${JSON.stringify(result)} ${said.join(' | ')}`);
      const asked = said.find((t) => t.startsWith(FLEET_QUESTION));
      assert.ok(asked && [0, 1].every((i) => asked.includes(replicaUrl(i))), `asked before the token was sent, naming each replica: ${asked}`);
      assert.deepEqual(titles, ['Evaluate Canary (2/4): digits', 'Evaluate Canary (3/4): digits 1 → 3', 'Evaluate Canary (4/4): digits 1 → 3']);
      assert.deepEqual(result.failed, []);
      assert.deepEqual(result.outcomes.map((o) => o.replica.name), ['r0', 'r1']);
      // One anchor for both replicas (their checks on one grid), taken when Evaluate Canary started them.
      const source = result.request.source as { kind: string; url: string; anchor?: string };
      assert.deepEqual([source.kind, source.url], ['prometheus', state.prometheusUrl]);
      assert.ok(source.anchor && Math.abs(Date.parse(source.anchor) - Date.now()) < 10 * 60_000, `an anchor: ${source.anchor}`);
      // Each replica holds its own canary, started at its own address, judged from the fleet's Prometheus.
      for (const [i, o] of result.outcomes.entries()) {
        assert.equal(o.replica.url, replicaUrl(i));
        const heads = (await (await fetch(`${replicaUrl(i)}/api/v1/canaries`, { headers: auth() })).json()) as CanaryHead[];
        const mine = heads.filter((c) => !before.has(c.id));
        assert.deepEqual(mine.map((c) => c.id), [o.canary.id], `replica ${i} has exactly the canary started on it`);
        assert.deepEqual(mine[0]!.source, source);
        assert.equal(o.lost, undefined);
        assert.notEqual(o.canary.state, 'running');
      }
      const [a, b] = result.outcomes;
      const reasons = result.outcomes.map((o) => `${o.replica.name}: ${o.canary.state} (${o.canary.reason})`).join(' | ');
      console.log(`fleet canary: ${result.progress.at(-1)}; ${reasons}`);
      // Followed together: after a check that decided nothing, both are shown running (a canary the
      // first check decides is never seen so; the one decision is asserted below either way).
      const checks = Number(/^2 replicas: (\d+) checks?/.exec(result.progress.at(-1) ?? '')?.[1] ?? 0);
      assert.ok(checks >= 1, result.progress.join('\n'));
      if (checks > 1) assert.ok(result.progress.some((p) => /^2 replicas: \d+ checks?, running on 2\/2 at 50%$/.test(p)), `${result.progress.join('\n')}\n${reasons}`);
      const wordOf = (o: typeof a) => (o!.canary.state === 'rolled_back' ? 'rolled back' : o!.canary.state);
      // On one grid the replicas read the same windows: the same decision, whatever it is (the
      // notification's words for replicas that disagree are fleetView.test.ts's).
      assert.equal(a!.canary.state, b!.canary.state, `one decision: r0 ${a!.canary.reason} | r1 ${b!.canary.reason}`);
      const word = wordOf(a);
      assert.match(result.progress.at(-1) ?? '', new RegExp(`^2 replicas: \\d+ checks?, ${word} on 2/2$`), result.progress.join('\n'));
      assert.match(said.at(-1) ?? '', new RegExp(`^Canary digits 1 → 3 on 2 replicas: ${word} on 2/2`));
    });

    test('a Prometheus behind a token: the fleet says to set credentials; the command stores them in secret storage and the fleet is read with them', async function (this: Mocha.Context) {
      this.timeout(90_000);
      await vscode.commands.executeCommand('inferscope.models.focus');
      const secret = 'fleet-prom-token-7f3a';
      const seen: (string | undefined)[] = [];
      const upstream = new URL(state.prometheusUrl);
      // A tiny authenticating proxy in front of the fleet's Prometheus: 401 without the token.
      const proxy = createServer((req, res) => {
        seen.push(req.headers.authorization);
        if (req.headers.authorization !== `Bearer ${secret}`) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
        const out = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { accept: 'application/json' } }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.writeHead(502).end());
        req.pipe(out);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const key = credentialsSecretKey(proxyUrl);
      const asked: { title: string; password?: boolean }[] = [];
      let answer: 'bearer' | 'clear' = 'bearer';
      api.services.prompts = {
        pick: async (items, o) => {
          asked.push({ title: o.title });
          return items.find((i) => (i as unknown as { id: string }).id === answer) as never;
        },
        input: async (o) => {
          asked.push({ title: o.title, ...(o.password !== undefined ? { password: o.password } : {}) });
          return secret;
        },
        message: async () => undefined,
      };
      try {
        await config().update('fleet.prometheusUrl', proxyUrl, vscode.ConfigurationTarget.Global);
        const fleet = api.services.fleet!;
        await waitFor('the fleet says Prometheus needs credentials', () => fleet.authFailed && api.models.fleet?.description === 'Prometheus needs credentials');
        assert.equal(fleet.error, `Prometheus at ${proxyUrl} answered 401: it needs credentials; set them with "${SET_CREDENTIALS_TITLE}"`);
        await waitFor('the status bar says it cannot read Prometheus, and why', () => api.statusBar.text === '$(warning) Inferscope: fleet: cannot read Prometheus' && plain(api.statusBar.tooltip).includes(SET_CREDENTIALS_TITLE));
        assert.equal(api.statusBar.backgroundColor, 'statusBarItem.warningBackground');

        const set = await vscode.commands.executeCommand<CredentialsResult>(SET_CREDENTIALS_COMMAND);
        assert.deepEqual(set, { stored: 'bearer', replicas: 2 });
        assert.deepEqual(asked, [{ title: `Prometheus credentials for ${proxyUrl}` }, { title: `Prometheus credentials for ${proxyUrl}`, password: true }]);
        assert.equal(await api.services.context.secrets.get(key), `Bearer ${secret}`, 'kept in secret storage under the URL');
        assert.ok(!JSON.stringify(config().inspect('fleet')).includes(secret), 'never in settings');
        assert.ok(seen.includes(`Bearer ${secret}`));
        await waitFor('the tree lists both replicas, read through the proxy', () => api.models.fleet?.replicas.length === 2 && !fleet.error);
        await waitFor('the status bar counts them again', () => /Inferscope: fleet: 2 of 2 replicas up/.test(api.statusBar.text));

        // Cleared: the next read is refused again, and says so.
        answer = 'clear';
        const cleared = await vscode.commands.executeCommand<CredentialsResult>(SET_CREDENTIALS_COMMAND);
        assert.equal(cleared?.stored, 'cleared');
        assert.match(cleared?.error ?? '', /answered 401: it needs credentials/);
        assert.equal(await api.services.context.secrets.get(key), undefined);
      } finally {
        api.services.prompts = undefined;
        await api.services.context.secrets.delete(key);
        await config().update('fleet.prometheusUrl', state.prometheusUrl, vscode.ConfigurationTarget.Global);
        proxy.closeAllConnections();
        proxy.close();
      }
      await waitFor('the fleet read from its own Prometheus again', () => api.models.fleet?.replicas.length === 2 && !api.services.fleet!.error);
    });

    test('a replica SIGKILLed is shown as down; the other stays up', async function (this: Mocha.Context) {
      this.timeout(60_000);
      await vscode.commands.executeCommand('inferscope.models.focus');
      process.kill(state.replicas[1]!.pid, 'SIGKILL');
      await waitFor('r1 shown down', () => api.models.fleet?.replicas[1]?.health === 'down');
      const [r0, r1] = api.models.fleet!.replicas;
      assert.equal(r0!.health, 'up');
      assert.match(r1!.description, /^down · 127\.0\.0\.1:\d+$/);
      assert.equal(r1!.icon.id, 'debug-disconnect');
      assert.equal(api.models.fleet!.description, '2 replicas, 1 down');
      // The status bar: warning, the replica named.
      await waitFor('the status bar says 1 of 2 up, warning, naming r1', () => /^\$\(warning\) Inferscope: fleet: 1 of 2 replicas up/.test(api.statusBar.text) && plain(api.statusBar.tooltip).includes(`Replica r1 (127.0.0.1:${state.replicas[1]!.port}) is down`));
      assert.equal(api.statusBar.backgroundColor, 'statusBarItem.warningBackground');
      // The fleet keeps serving through nginx.
      assert.equal((await fetch(`${state.lbUrl}/v2/models/digits/infer`, { method: 'POST', headers: auth(), body: example })).status, 200);
    });
  });
}
