// The model inspector's page for one version, as Markdown: the file and its graph (opset,
// producer, operators, parameters), the tensors, and how the agent serves it (provider, instances,
// batching, breaker config and state). Pure (no `vscode`).
import type { ModelInspection, TensorMetadata, VersionStatus } from '../../../common/api.js';
import { breakerSummary } from '../views/modelRows.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** 7850 → "7,850 (7.9 K)"; small counts stay plain. */
export function formatCount(n: number): string {
  const plain = n.toLocaleString('en-US');
  if (n < 10_000) return plain;
  const [v, unit] = n >= 1e9 ? [n / 1e9, 'G'] : n >= 1e6 ? [n / 1e6, 'M'] : [n / 1e3, 'K'];
  return `${plain} (${v.toFixed(1)} ${unit})`;
}

const shape = (t: TensorMetadata) => `[${t.shape.map((d) => (d < 0 ? '-1' : String(d))).join(', ')}]`;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function settingsTable(values: Record<string, unknown>): string[] {
  return ['| setting | value |', '|---|---|', ...Object.entries(values).map(([k, v]) => `| \`${k}\` | ${cell(Array.isArray(v) ? `[${v.join(', ')}]` : String(v))} |`)];
}

export function inspectionMarkdown(i: ModelInspection, status?: VersionStatus): string {
  const o = i.onnx;
  const lines = [
    `# ${i.model} v${i.version}`,
    '',
    status ? `State: **${status.state}**${status.is_default ? ' (default version)' : ''}${status.reason ? ` — ${status.reason}` : ''}` : '',
    '',
    '## Model file',
    '',
    '| | |',
    '|---|---|',
    `| file | \`${i.file}\` (${formatBytes(i.file_bytes)}) |`,
    `| producer | ${cell(o.producer_name || '(not set)')}${o.producer_version ? ` ${cell(o.producer_version)}` : ''} |`,
    `| IR version | ${o.ir_version} |`,
    `| opset | ${o.opsets.map((s) => `${s.domain} ${s.version}`).join(', ') || '(none)'} |`,
    `| graph | ${cell(o.graph_name || '(unnamed)')}: ${o.node_count} node${o.node_count === 1 ? '' : 's'} |`,
    `| parameters | ${formatCount(o.parameters)} in ${o.initializers} initializer${o.initializers === 1 ? '' : 's'}${o.external_initializers ? ` (${o.external_initializers} with external data)` : ''} |`,
  ];
  if (o.doc_string) lines.push(`| description | ${cell(o.doc_string.length > 300 ? `${o.doc_string.slice(0, 300)}…` : o.doc_string)} |`);
  lines.push('', '## Inputs and outputs', '', '| | name | datatype | shape |', '|---|---|---|---|');
  for (const t of i.inputs) lines.push(`| input | \`${t.name}\` | ${t.datatype} | ${shape(t)} |`);
  for (const t of i.outputs) lines.push(`| output | \`${t.name}\` | ${t.datatype} | ${shape(t)} |`);
  lines.push('', '## Operators', '', '| operator | nodes |', '|---|---|');
  for (const [op, n] of Object.entries(o.operators)) lines.push(`| ${cell(op)} | ${n} |`);
  lines.push(
    '',
    '## Serving',
    '',
    `Execution provider **${i.provider}** (tried in order: ${i.config.execution_providers.join(', ')}), ${i.instances} instance${i.instances === 1 ? '' : 's'} running (config: ${i.config.instance_count}), ${i.config.intra_op_threads || 'default'} intra-op thread(s) each, run timeout ${i.config.run_timeout_ms ? `${i.config.run_timeout_ms} ms` : 'none'}.`,
    '',
    '### Batching',
    '',
  );
  if (i.config.dynamic_batching) lines.push(...settingsTable({ max_batch_size: i.config.max_batch_size, ...i.config.dynamic_batching }));
  else lines.push('`max_batch_size` 0: no batch dimension; every request runs alone.');
  if (status) lines.push('', `Now: ${status.batching.queue_depth} waiting, ${status.batching.in_flight_batches} batch(es) in flight.`);
  lines.push('', '### Circuit breaker', '', ...settingsTable(i.config.breaker));
  if (status?.breaker) lines.push('', ...breakerSummary(status.breaker).split('\n').map((l) => `- ${l}`));
  lines.push('');
  return lines.join('\n');
}
