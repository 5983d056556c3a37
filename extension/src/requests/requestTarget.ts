// Which model a request file is for. A `*.infer.json` file is an Open Inference Protocol request
// body, sent as it is; the model comes from, in order:
//   1. the body's `model_name` (a protocol field the agent accepts and checks against the URL, so
//      the file still works with `curl -d @file`),
//   2. the file name, `<model>.infer.json` or `<model>.<anything>.infer.json`, when the agent
//      serves a model of that name,
//   3. a quick pick (the caller's fallback).
// The version is never read from the file: each CodeLens names its own. Pure (no `vscode`).

export const REQUEST_FILE_SUFFIX = '.infer.json';

export function isRequestFile(path: string): boolean {
  return path.toLowerCase().endsWith(REQUEST_FILE_SUFFIX);
}

/** `digits.infer.json` → `digits`, `digits.seven.infer.json` → `digits`; not a request file → undefined. */
export function modelFromFileName(path: string): string | undefined {
  const base = path.split(/[\\/]/).pop() ?? '';
  if (!isRequestFile(base)) return undefined;
  const stem = base.slice(0, -REQUEST_FILE_SUFFIX.length);
  const model = stem.split('.')[0];
  return model ? model : undefined;
}

export interface RequestTarget {
  model: string;
  /** Where the model name came from, for the lens tooltip. */
  from: 'model_name' | 'file name';
}

/**
 * The model a request file names. `served` lists the agent's models; a file name that is not one
 * of them names no model (`seven.infer.json` is a file about a digit, not a model called "seven").
 */
export function requestTarget(body: unknown, path: string, served: readonly string[]): RequestTarget | undefined {
  const named = typeof body === 'object' && body !== null ? (body as { model_name?: unknown }).model_name : undefined;
  if (typeof named === 'string' && named) return { model: named, from: 'model_name' };
  const fromName = modelFromFileName(path);
  if (fromName && served.includes(fromName)) return { model: fromName, from: 'file name' };
  return undefined;
}
