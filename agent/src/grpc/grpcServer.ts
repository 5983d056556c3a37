// The Open Inference Protocol over gRPC (inference.GRPCInferenceService, see agent/proto): the same
// agent as the REST front door, behind the same guards. ModelInfer runs through the one inference
// path (canary routing, features, breaker, batcher, limits, metrics), so REST and gRPC requests
// share batches. The wire is unaryTransport.ts; errors become statuses in grpcErrors.ts.
import { Cancellation } from '../batching/cancellation.js';
import { InvalidInputError, ShuttingDownError } from '../errors.js';
import type { AppDeps } from '../server/appDeps.js';
import { EXTENSIONS } from '../server/routes/v2Routes.js';
import { bearerVerifier } from '../server/security.js';
import { outcomeOf } from '../serving/inferenceService.js';
import { RequestTrace } from '../tracing/requestTrace.js';
import { toGrpcError } from './grpcErrors.js';
import { statusName } from './grpcStatus.js';
import { fromBuiltResponse, rawContentsOffset, toInferPayload, type ModelInferRequest } from './inferMessages.js';
import { inferenceServiceDefinition, SERVICE_NAME } from './protoFiles.js';
import { tritonHandlers } from './tritonHandlers.js';
import { startUnaryTransport, type UnaryCall, type UnaryMethod } from './unaryTransport.js';

/** Health RPCs answer without a token, as /v2/health/* does (load balancers send none). */
const OPEN_RPCS = new Set(['ServerLive', 'ServerReady', 'ModelReady']);

export interface GrpcServerOptions {
  host: string;
  port: number;
  /** Connections (HTTP/2 sessions) accepted at once, as the REST door's max_connections. */
  maxConnections?: number;
}

export interface RunningGrpcServer {
  port: number;
  /** Stops taking calls; resolves when the calls in flight have ended (or `force` ends them). */
  close(): Promise<void>;
  force(): void;
}

type Handler = (request: any, call: UnaryCall) => unknown;

export async function startGrpcServer(deps: AppDeps, opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const service = inferenceServiceDefinition();
  const verify = deps.token ? bearerVerifier(deps.token) : undefined;
  const { models, inference, drain, logger } = deps;

  const handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: true }),
    ServerReady: () => ({ ready: models.ready && !drain.isDraining }),
    ModelReady: (req: { name: string; version: string }) => ({ ready: models.isReady(req.name, req.version || undefined) }),
    ServerMetadata: () => ({ name: 'inferscope', version: deps.version, extensions: EXTENSIONS }),
    ModelMetadata: (req: { name: string; version: string }) => models.metadata(req.name, req.version || undefined),
    ModelInfer: (req: ModelInferRequest, call) => {
      if (!deps.requests.enabled) return modelInfer(req, call);
      // The request's record: from when its message was read, to when the answer is handed over.
      const trace = new RequestTrace('grpc', req.model_name, req.model_version || undefined);
      trace.mark('body_read_ms');
      if (deps.requests.exporter) trace.traceparent = call.metadata.traceparent;
      return modelInfer(req, call, trace).then(
        (answer) => {
          deps.requests.record(trace.finish('OK'), trace);
          return answer;
        },
        (err: unknown) => {
          if (trace.outcome === 'success') trace.failed(outcomeOf(err), (err as Error)?.message ?? String(err));
          deps.requests.record(trace.finish(statusName(toGrpcError(err).code)), trace);
          throw err;
        },
      );
    },
    ...tritonHandlers(deps),
  };

  async function modelInfer(req: ModelInferRequest, call: UnaryCall, trace?: RequestTrace) {
    const { payload, raw } = toInferPayload(req, call.owned);
    // The call's deadline is the request's: it lowers the queue deadline like `timeout` does.
    const left = call.deadline - Date.now();
    if (Number.isFinite(left)) {
      const params = (payload.body as { parameters: Record<string, unknown> }).parameters;
      const us = Math.max(1, Math.floor(left * 1000));
      if (typeof params.timeout !== 'number' || params.timeout === 0 || params.timeout > us) params.timeout = us;
    }
    const cancel = new Cancellation();
    call.onCancel(() => cancel.cancel());
    const built = await inference.infer(req.model_name, req.model_version || undefined, payload, cancel, trace);
    return fromBuiltResponse(built, raw);
  }

  const methods: Record<string, UnaryMethod> = {};
  for (const [name, definition] of Object.entries(service)) {
    const handler = handlers[name];
    if (!handler) throw new Error(`no handler for RPC ${name}`);
    methods[name] = {
      ...(name === 'ModelInfer' ? { payloadOffset: rawContentsOffset } : {}),
      handle: async (call) => {
        if (verify && !OPEN_RPCS.has(name)) verify(first(call.metadata.authorization));
        let request: unknown;
        try {
          request = definition.requestDeserialize(call.message);
        } catch (err) {
          // Not valid protobuf: the client's mistake (INVALID_ARGUMENT, as Triton answers).
          throw new InvalidInputError(`the ${name} message is not valid protobuf (${(err as Error).message})`);
        }
        if (drain.isDraining && !OPEN_RPCS.has(name)) throw new ShuttingDownError('the agent is shutting down and takes no new requests');
        const ticket = {};
        drain.hold(ticket);
        try {
          return definition.responseSerialize((await handler(request, call)) as object);
        } finally {
          drain.detach(ticket);
        }
      },
    };
  }

  const transport = await startUnaryTransport({
    host: opts.host,
    port: opts.port,
    // The body limit of the REST door bounds a message too (RESOURCE_EXHAUSTED beyond it).
    maxMessageBytes: deps.bodyLimitBytes,
    ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
    service: SERVICE_NAME,
    methods,
    toStatus: (err, rpc) => {
      const e = toGrpcError(err);
      if (e.internal) logger.error('gRPC call failed', { rpc, error: (err as Error)?.stack ?? String(err) });
      else logger.debug('gRPC call rejected', { rpc, code: statusName(e.code), error: e.details });
      return e;
    },
    onEnd: (rpc, code) => deps.metrics.onGrpc(rpc ?? 'unknown', statusName(code)),
  });
  return transport;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
