// The text of the documents a request file opens beside it: one answer (JSONC with a header that
// says where it went, how long it took and which version answered) and a comparison of two versions
// (Markdown). Pure (no `vscode`).
import type { InferResponse } from '../../../common/api.js';
import type { OutputComparison } from './compareOutputs.js';
import { formatJson } from './requestBody.js';

export interface SentRequest {
  /** `POST /v2/models/digits/versions/2/infer` */
  path: string;
  /** The request file, for the header. */
  file: string;
  ms: number;
  /** Local time it was sent. */
  at: Date;
}

export type Answer = { ok: true; response: InferResponse } | { ok: false; status: number; error: string };

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function responseText(sent: SentRequest, answer: Answer): string {
  const head = [`// ${sent.file} → POST ${sent.path}`, `// sent ${sent.at.toLocaleTimeString()}, answered in ${formatMs(sent.ms)} (round trip)`];
  if (!answer.ok) return [...head, `// ${answer.status}: the agent refused the request`, formatJson({ error: answer.error }), ''].join('\n');
  const r = answer.response;
  return [...head, `// 200: answered by ${r.model_name} version ${r.model_version}`, formatJson(r), ''].join('\n');
}

function num(n: number): string {
  if (n === 0) return '0';
  return n >= 1e-3 && n < 1e4 ? n.toPrecision(4).replace(/\.?0+$/, '') : n.toExponential(3);
}

export interface ComparedVersion {
  version: string;
  ms: number;
}

/** A label per class index, when the model has labels. */
export type LabelOf = (index: number) => string;

export function comparisonText(file: string, model: string, a: ComparedVersion, b: ComparedVersion, outputs: OutputComparison[], labelOf: LabelOf = String): string {
  const lines = [
    `# ${model}: version ${a.version} vs version ${b.version}`,
    '',
    `Request file \`${file}\`, sent to each version (${model} v${a.version} answered in ${formatMs(a.ms)}, v${b.version} in ${formatMs(b.ms)}).`,
    '',
    '| output | shape | max abs difference | mean abs difference | argmax flips |',
    '|---|---|---|---|---|',
  ];
  for (const o of outputs) {
    const shape = `[${o.shape.join(', ')}]`;
    if (o.note !== undefined) {
      lines.push(`| ${o.name} | ${shape} | — | — | ${o.note} |`);
      continue;
    }
    const flips = o.flips ? `${o.flips.length} of ${o.rows} row${o.rows === 1 ? '' : 's'}` : '— (no class dimension)';
    lines.push(`| ${o.name} | ${shape} | ${num(o.maxAbsDiff!)} | ${num(o.meanAbsDiff!)} | ${flips} |`);
  }
  const flipped = outputs.filter((o) => o.flips && o.flips.length > 0);
  for (const o of flipped) {
    lines.push('', `## ${o.name}: rows whose argmax differs`, '', `| row | v${a.version} | v${b.version} |`, '|---|---|---|');
    for (const f of o.flips!.slice(0, 50)) lines.push(`| ${f.row} | ${labelOf(f.a)} | ${labelOf(f.b)} |`);
    if (o.flips!.length > 50) lines.push('', `…and ${o.flips!.length - 50} more.`);
  }
  if (flipped.length === 0 && outputs.some((o) => o.flips)) lines.push('', 'No argmax flips: both versions predict the same class for every row.');
  lines.push('');
  return lines.join('\n');
}
