// Which config.json files the agent refused, and where: the model's `error` names the file and the
// field ("typo/config.json: unknown field 'max_batch_sise'"). Pure (tested under plain Node); the
// Problems panel entries are made in configDiagnostics.ts.
import { join } from 'node:path';
import type { AgentStatus } from '../../../common/api.js';

export interface ConfigProblem {
  file: string;
  /** 0-based line of the field named in the message (0 when it cannot be found). */
  line: number;
  message: string;
}

export function configProblems(status: AgentStatus, readFile: (file: string) => string | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const m of status.models) {
    if (!m.error || !m.error.includes('config.json')) continue;
    const file = join(status.agent.model_repository, m.name, 'config.json');
    const text = readFile(file);
    if (text === undefined) continue;
    // "field 'a.b.c'" or "unknown field 'x'": the last segment is the key to look for.
    const field = /field '([^']+)'/.exec(m.error)?.[1]?.split('.').pop();
    const line = field === undefined ? -1 : text.split('\n').findIndex((l) => l.includes(`"${field}"`));
    problems.push({ file, line: Math.max(0, line), message: m.error.replace(/^[^:]*config\.json: /, '') });
  }
  return problems;
}
