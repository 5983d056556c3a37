// Typed HTTP calls to the agent's control API and inference API. No VS Code imports.
import type {
  AgentStatus,
  BreakerAction,
  BatchRecord,
  BreakerStatus,
  Canary,
  CanaryHead,
  CanaryRejudgement,
  CanaryRequest,
  InferRequest,
  InferResponse,
  ModelInspection,
  ModelMetadata,
  RepositoryIndexEntry,
  RequestRecord,
} from '../../../common/api.js';
import type { Endpoint } from '../agent/agentSupervisor.js';
import { AgentHttpError, AgentNotRunningError } from '../errors.js';

export class AgentClient {
  constructor(private readonly endpoint: () => Endpoint | undefined) {}

  get url(): string | undefined {
    return this.endpoint()?.url;
  }

  status(signal?: AbortSignal): Promise<AgentStatus> {
    return this.json('GET', '/api/v1/status', undefined, signal);
  }

  repositoryIndex(): Promise<RepositoryIndexEntry[]> {
    return this.json('POST', '/v2/repository/index', {});
  }

  async metricsText(signal?: AbortSignal): Promise<string> {
    const res = await this.request('GET', '/metrics', undefined, signal);
    return res.text();
  }

  breaker(model: string, version: string, action: BreakerAction): Promise<BreakerStatus> {
    return this.json('POST', `/api/v1/models/${enc(model)}/versions/${enc(version)}/breaker`, { action });
  }

  startCanary(body: CanaryRequest): Promise<Canary> {
    return this.json('POST', '/api/v1/canaries', body);
  }

  canary(id: string, signal?: AbortSignal): Promise<Canary> {
    return this.json('GET', `/api/v1/canaries/${enc(id)}`, undefined, signal);
  }

  /** Every canary the agent keeps, without checks (canary(id) has them). */
  canaries(): Promise<CanaryHead[]> {
    return this.json('GET', '/api/v1/canaries');
  }

  /** The canary's recorded evidence judged again at another alpha (no rerun). */
  rejudgeCanary(id: string, alpha: number): Promise<CanaryRejudgement> {
    return this.json('GET', `/api/v1/canaries/${enc(id)}/rejudge?alpha=${alpha}`);
  }

  abortCanary(id: string): Promise<Canary> {
    return this.json('DELETE', `/api/v1/canaries/${enc(id)}`);
  }

  /** Triton's explicit load: re-reads the model from the repository (answers 200 with no body). */
  async loadModel(model: string): Promise<void> {
    await this.request('POST', `/v2/repository/models/${enc(model)}/load`, {});
  }

  async unloadModel(model: string): Promise<void> {
    await this.request('POST', `/v2/repository/models/${enc(model)}/unload`, {});
  }

  infer(model: string, body: InferRequest, signal?: AbortSignal): Promise<InferResponse> {
    return this.json('POST', `/v2/models/${enc(model)}/infer`, body, signal);
  }

  /** A request file's body, to a version or (version undefined) through the model's routing. */
  inferAt(model: string, version: string | undefined, body: unknown, signal?: AbortSignal): Promise<InferResponse> {
    const path = version === undefined ? `/v2/models/${enc(model)}/infer` : `/v2/models/${enc(model)}/versions/${enc(version)}/infer`;
    return this.json('POST', path, body, signal);
  }

  modelMetadata(model: string, version?: string): Promise<ModelMetadata> {
    return this.json('GET', version === undefined ? `/v2/models/${enc(model)}` : `/v2/models/${enc(model)}/versions/${enc(version)}`);
  }

  /** The model inspector's data: the version's ONNX summary and effective configuration. */
  inspect(model: string, version: string): Promise<ModelInspection> {
    return this.json('GET', `/api/v1/models/${enc(model)}/versions/${enc(version)}/inspect`);
  }

  /** Recorded requests, newest first; `query` is GET /api/v1/requests's query string. */
  async recordedRequests(query: string, signal?: AbortSignal): Promise<RequestRecord[]> {
    return (await this.json<{ requests: RequestRecord[] }>('GET', `/api/v1/requests${query ? `?${query}` : ''}`, undefined, signal)).requests;
  }

  /** One recorded request, by the agent's id or the client's. */
  recordedRequest(id: string): Promise<RequestRecord> {
    return this.json('GET', `/api/v1/requests/${enc(id)}`);
  }

  /** One recorded batch and the records still held of its requests. */
  batch(id: string): Promise<BatchRecord & { requests: RequestRecord[] }> {
    return this.json('GET', `/api/v1/batches/${enc(id)}`);
  }

  /** The raw response, for callers that read the stream themselves (the SSE client). */
  async request(method: string, path: string, body?: unknown, signal?: AbortSignal, accept = 'application/json'): Promise<Response> {
    const ep = this.endpoint();
    if (!ep) throw new AgentNotRunningError();
    const headers: Record<string, string> = { accept, authorization: `Bearer ${ep.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${ep.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new AgentHttpError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.request(method, path, body, signal);
    return (await res.json()) as T;
  }
}

const enc = encodeURIComponent;
