// Every manifest in deploy/kubernetes/ and deploy/kserve/: valid against the Kubernetes schemas
// (kubernetes-models, @kubernetes-models/prometheus-operator), KServe's fields against a restated
// schema (test/helpers/kserveSchema.ts), and consistent with the agent itself: its config files
// are what the agent accepts, the probe paths answer, the ports and flags are the agent's, the
// PrometheusRule is deploy/prometheus/'s rules, and every metric the rules and the HPA use is one
// a running agent exports.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Ajv from 'ajv';
import { loadAll } from 'js-yaml';
import { defaultAgentConfig, finalizeAgentConfig, readAgentConfigFile } from '../../agent/src/config/agentConfig.js';
import { parseModelConfig } from '../../agent/src/repository/modelConfig.js';
import { ruleGroups } from '../../scripts/write-prometheus-rule.js';
import { BUNDLED_MODELS, ROOT, runAgentToExit, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { request } from '../helpers/http.js';
import { clusterServingRuntimeSchema, inferenceServiceSchema } from '../helpers/kserveSchema.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };

const K8S = join(ROOT, 'deploy', 'kubernetes');
const KSERVE = join(ROOT, 'deploy', 'kserve');
const NOT_OBJECTS = new Set(['kustomization.yaml', 'prometheus-adapter-values.yaml']);
const docs = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !NOT_OBJECTS.has(f))
    .flatMap((f) => (loadAll(readFileSync(join(dir, f), 'utf8')) as Obj[]).filter(Boolean).map((o) => ({ file: f, o })));
const k8s = docs(K8S);
const one = (kind: string, name?: string) => {
  const found = k8s.filter(({ o }) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind} ${name ?? ''}`);
  return found[0]!.o;
};
const agentDeployments = () => k8s.filter(({ o }) => o.kind === 'Deployment' && o.metadata.name.startsWith('inferscope') && o.metadata.name !== 'inferscope-redis').map(({ o }) => o);
const agentContainer = (d: Obj) => d.spec.template.spec.containers.find((c: { name: string }) => c.name === 'agent');

let agent: AgentProcess;
let dir: string;
const TOKEN = 'manifest-test-token-0123456789';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inferscope-manifests-'));
  agent = await startAgent({ env: { INFERSCOPE_TOKEN: TOKEN } });
});
after(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('every Kubernetes manifest validates against its schema (kubernetes-models, prometheus-operator)', async () => {
  const core = await import('kubernetes-models/v1');
  const apps = await import('kubernetes-models/apps/v1');
  const policy = await import('kubernetes-models/policy/v1');
  const autoscaling = await import('kubernetes-models/autoscaling/v2');
  const monitoring = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
  const models: Record<string, new (o: any) => { validate(): void }> = {
    'v1/ConfigMap': core.ConfigMap,
    'v1/Secret': core.Secret,
    'v1/Service': core.Service,
    'apps/v1/Deployment': apps.Deployment,
    'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
    'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler,
    'monitoring.coreos.com/v1/PodMonitor': monitoring.PodMonitor,
    'monitoring.coreos.com/v1/PrometheusRule': monitoring.PrometheusRule,
  };
  assert.ok(k8s.length >= 10);
  for (const { file, o } of k8s) {
    const Model = models[`${o.apiVersion}/${o.kind}`];
    assert.ok(Model, `${file}: no schema for ${o.apiVersion} ${o.kind}`);
    assert.doesNotThrow(() => new Model(o).validate(), `${file}: ${o.kind} ${o.metadata.name}`);
  }
  // The schemas do catch mistakes: a port given as text is refused.
  const broken = structuredClone(one('Deployment', 'inferscope'));
  agentContainer(broken).ports[0].containerPort = '8000';
  assert.throws(() => new apps.Deployment(broken as never).validate(), /containerPort must be integer/);

  // The kustomization lists every manifest but the GPU variant (applied on its own).
  const kustomization = loadAll(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'))[0] as { resources: string[] };
  assert.deepEqual([...kustomization.resources].sort(), [...new Set(k8s.map((d) => d.file))].filter((f) => f !== 'deployment-gpu.yaml').sort());
});

test('the ConfigMap holds settings the agent accepts, and the bundled digits model with its features in Redis', () => {
  const cm = one('ConfigMap', 'inferscope-config');
  const file = join(dir, 'agent.json');
  writeFileSync(file, cm.data!['agent.json']!);
  const settings = finalizeAgentConfig({ ...defaultAgentConfig(BUNDLED_MODELS), ...readAgentConfigFile(file), token: TOKEN });
  assert.equal(settings.host, '0.0.0.0');
  // Without the token a non-loopback agent refuses to start: the Secret is not optional.
  assert.throws(() => finalizeAgentConfig({ ...defaultAgentConfig(BUNDLED_MODELS), ...readAgentConfigFile(file) }), /without a token/);

  const digits = parseModelConfig(cm.data!['digits-config.json']!, 'digits-config.json', 'digits');
  assert.equal(digits.features?.source, 'redis');
  const bundled = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'config.json'), 'utf8')) as Record<string, unknown>;
  const mine = JSON.parse(cm.data!['digits-config.json']!) as Record<string, unknown>;
  delete bundled.features;
  delete mine.features;
  assert.deepEqual(mine, bundled, 'the ConfigMap changes only where the features come from');
  const redisService = one('Service', 'inferscope-redis');
  assert.match(JSON.stringify(digits.features), new RegExp(`redis://${redisService.metadata.name}:${redisService.spec.ports[0].port}`));
});

test('Deployments: probes answer on the agent, ports and flags are the agent’s, the grace period covers preStop + drain', async () => {
  const cm = one('ConfigMap', 'inferscope-config');
  const settings = JSON.parse(cm.data!['agent.json']!) as { port: number; grpc_port: number; drain_timeout_s: number };
  const secret = one('Secret', 'inferscope-token');
  assert.ok(secret.stringData!.token!.length >= 16, 'the agent refuses tokens under 16 characters');
  const help = (await runAgentToExit(['--help'])).stdout;
  const deployments = agentDeployments();
  assert.equal(deployments.length, 2, 'CPU and GPU');
  for (const d of deployments) {
    const c = agentContainer(d);
    for (const flag of c.args.filter((a: string) => a.startsWith('--'))) assert.match(help, new RegExp(`^\\s+${flag}\\b`, 'm'), `${flag} is an agent flag`);
    const ports = Object.fromEntries(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    assert.deepEqual(ports, { http: settings.port, grpc: settings.grpc_port });
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const { path, port } = c[probe].httpGet;
      assert.ok(port in ports, `${probe} port ${port}`);
      // Health routes answer without a token (the kubelet sends none).
      assert.equal((await request(`${agent.url}${path}`)).status, 200, `${d.metadata.name} ${probe} ${path}`);
    }
    assert.equal(c.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.equal(c.livenessProbe.httpGet.path, '/v2/health/live');
    const env = c.env.find((e: { name: string }) => e.name === 'INFERSCOPE_TOKEN');
    assert.deepEqual(env.valueFrom.secretKeyRef, { name: secret.metadata.name, key: 'token' });
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    assert.ok(d.spec.template.spec.terminationGracePeriodSeconds >= preStop + settings.drain_timeout_s + 1, `${d.metadata.name}: grace period < preStop ${preStop} s + drain ${settings.drain_timeout_s} s`);
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
  }
  const gpu = agentContainer(one('Deployment', 'inferscope-gpu'));
  assert.equal(gpu.resources.limits['nvidia.com/gpu'], 1);

  const svc = one('Service', 'inferscope');
  const deployment = one('Deployment', 'inferscope');
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(deployment.spec.template.metadata.labels[k], v);
  assert.deepEqual(svc.spec.ports.map((p: { targetPort: string }) => p.targetPort).sort(), ['grpc', 'http']);
  const pdb = one('PodDisruptionBudget', 'inferscope');
  assert.ok(pdb.spec.minAvailable < deployment.spec.replicas);
  const hpa = one('HorizontalPodAutoscaler', 'inferscope');
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.ok(hpa.spec.minReplicas > pdb.spec.minAvailable - 1);
});

test('the PodMonitor scrapes the agents’ http port with the token; the PrometheusRule is deploy/prometheus’s rules', () => {
  const pm = one('PodMonitor', 'inferscope');
  const endpoint = pm.spec.podMetricsEndpoints[0];
  assert.equal(endpoint.port, 'http');
  assert.equal(endpoint.path, '/metrics');
  assert.deepEqual(endpoint.authorization.credentials, { name: 'inferscope-token', key: 'token' });
  const rule = one('PrometheusRule', 'inferscope');
  assert.deepEqual(rule.spec.groups, ruleGroups(), 'regenerate with: npx tsx scripts/write-prometheus-rule.ts');
});

/** Metric names in a PromQL expression (recording rules' own names excluded: they have colons). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(inferscope_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''));
}

test('every metric the rules, the alerts, the HPA and the adapter use is one the running agent exports', async () => {
  const text = (await request<string>(`${agent.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).body;
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  assert.ok(exported.has('inferscope_inference_requests_total') || exported.has('inferscope_inference_requests'));
  const has = (name: string) => exported.has(name) || exported.has(name.replace(/_total$/, ''));
  const rule = one('PrometheusRule', 'inferscope');
  const used = new Set<string>();
  for (const g of rule.spec.groups as { rules: { expr: string }[] }[]) for (const r of g.rules) for (const n of metricNames(String(r.expr))) used.add(n);
  const hpa = one('HorizontalPodAutoscaler', 'inferscope');
  used.add(hpa.spec.metrics[0].pods.metric.name);
  const adapter = readFileSync(join(K8S, 'prometheus-adapter-values.yaml'), 'utf8');
  for (const n of metricNames(adapter)) used.add(n);
  assert.ok(used.size >= 8, [...used].join(', '));
  const missing = [...used].filter((n) => !has(n));
  assert.deepEqual(missing, [], `not exported by the agent: ${missing.join(', ')}`);
});

test('KServe: the runtime and the InferenceService match the restated KServe schema; the runtime runs the agent with its own flags', async () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const kserve = docs(KSERVE).map((d) => d.o);
  const runtime = kserve.find((o) => o.kind === 'ClusterServingRuntime')!;
  const isvc = kserve.find((o) => o.kind === 'InferenceService')!;
  for (const [o, schema] of [
    [runtime, clusterServingRuntimeSchema],
    [isvc, inferenceServiceSchema],
  ] as const) {
    const validate = ajv.compile(schema);
    assert.ok(validate(o), `${o.kind}: ${ajv.errorsText(validate.errors)}`);
  }
  // The restated schema catches a misspelt field.
  const typo = structuredClone(isvc);
  typo.spec.predictor.canaryTraficPercent = typo.spec.predictor.canaryTrafficPercent;
  assert.equal(ajv.compile(inferenceServiceSchema)(typo), false);

  // The runtime's containers are valid Kubernetes containers.
  const { Pod } = await import('kubernetes-models/v1');
  assert.doesNotThrow(() => new Pod({ metadata: { name: 'runtime' }, spec: { containers: runtime.spec.containers } } as never).validate());

  assert.ok(runtime.spec.supportedModelFormats.some((f: { name: string }) => f.name === isvc.spec.predictor.model.modelFormat.name));
  assert.equal(isvc.spec.predictor.model.runtime, runtime.metadata.name);
  assert.ok(runtime.spec.protocolVersions.includes('v2') && runtime.spec.protocolVersions.includes('grpc-v2'));
  assert.ok(isvc.spec.predictor.canaryTrafficPercent > 0 && isvc.spec.predictor.canaryTrafficPercent < 100);

  const c = runtime.spec.containers[0];
  const flag = (name: string) => c.args[c.args.indexOf(name) + 1];
  assert.equal(flag('--models'), '/mnt/models', 'KServe mounts the model at /mnt/models');
  assert.equal(Number(flag('--port')), c.ports[0].containerPort);
  assert.equal(Number(flag('--port')), 8080, 'KServe routes HTTP to 8080');
  assert.equal(c.readinessProbe.httpGet.path, '/v2/health/ready');
  assert.equal(c.livenessProbe.httpGet.path, '/v2/health/live');
  // The agent takes exactly these flags: started with them (loopback, free ports, the bundled models), it serves.
  const args = [...c.args];
  args[args.indexOf('--models') + 1] = BUNDLED_MODELS;
  args[args.indexOf('--host') + 1] = '127.0.0.1';
  args[args.indexOf('--port') + 1] = '0';
  args[args.indexOf('--grpc-port') + 1] = '0';
  const started = await startAgent({ args, env: { INFERSCOPE_TOKEN: TOKEN } });
  try {
    assert.equal((await request(`${started.url}${c.readinessProbe.httpGet.path}`)).status, 200);
    assert.ok(started.grpcPort, 'gRPC served');
  } finally {
    await started.stop();
  }
});
