// Writes deploy/kubernetes/prometheusrule.yaml (a prometheus-operator PrometheusRule) from the
// rule files Prometheus itself loads (deploy/prometheus/rules.yml and alerts.yml), so the two
// never differ; test/unit/deployManifests.test.ts fails when they do.
//   npx tsx scripts/write-prometheus-rule.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dump, load } from 'js-yaml';

const root = resolve(__dirname, '..');
export function ruleGroups(): unknown[] {
  return ['rules.yml', 'alerts.yml'].flatMap((f) => (load(readFileSync(join(root, 'deploy', 'prometheus', f), 'utf8')) as { groups: unknown[] }).groups);
}

if (require.main === module) {
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'inferscope', labels: { 'app.kubernetes.io/name': 'inferscope' } },
    spec: { groups: ruleGroups() },
  };
  const header = '# Generated from deploy/prometheus/rules.yml and alerts.yml by scripts/write-prometheus-rule.ts: edit those, then rerun it.\n';
  writeFileSync(join(root, 'deploy', 'kubernetes', 'prometheusrule.yaml'), header + dump(rule, { lineWidth: -1, noRefs: true }));
}
