import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferRequest } from '../../common/api.js';
import { BUNDLED_MODELS } from './agentProcess.js';

export interface JsonAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function request<T = any>(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export function exampleRequest(label: number): InferRequest {
  return JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'examples', `digit-${label}.json`), 'utf8')) as InferRequest;
}

export function argmax(values: ArrayLike<number>, offset = 0, width = values.length): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}
