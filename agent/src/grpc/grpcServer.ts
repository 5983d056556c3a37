// The Open Inference Protocol over gRPC (inference.GRPCInferenceService, see agent/proto): the same
// agent as the REST front door, behind the same guards. ModelInfer runs through the one inference
// path (canary routing, features, breaker, batcher, limits, metrics), so REST and gRPC requests
// share batches. Knows nothing of HTTP/1; errors become statuses in grpcErrors.ts.
import type { EventEmitter } from 'node:events';
import { Metadata, Server, ServerCredentials, status as Status, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { Cancellation } from '../batching/cancellation.js';
import { InvalidInputError, ShuttingDownError } from '../errors.js';
import type { AppDeps } from '../server/appDeps.js';
import { EXTENSIONS } from '../server/routes/v2Routes.js';
import { bearerVerifier } from '../server/security.js';
import { toGrpcError } from './grpcErrors.js';
import { fromBuiltResponse, toInferPayload, type ModelInferRequest } from './inferMessages.js';
import { loadInferenceService } from './protoFiles.js';
import { tritonHandlers } from './tritonHandlers.js';

const MALFORMED = Symbol('malformed message');

/** Health RPCs answer without a token, as /v2/health/* does (load balancers send none). */
const OPEN_RPCS = new Set(['ServerLive', 'ServerReady', 'ModelReady']);

export interface GrpcServerOptions {
  host: string;
  port: number;
}

export interface RunningGrpcServer {
  port: number;
  /** Stops taking calls; resolves when the calls in flight have ended (or `force` ends them). */
  close(): Promise<void>;
  force(): void;
}

type Handler = (request: any, call: ServerUnaryCall<any, any>) => unknown;

export async function startGrpcServer(deps: AppDeps, opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const service = loadInferenceService().service;
  const verify = deps.token ? bearerVerifier(deps.token) : undefined;
  const { models, inference, drain, logger } = deps;

  const handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: true }),
    ServerReady: () => ({ ready: models.ready && !drain.isDraining }),
    ModelReady: (req: { name: string; version: string }) => ({ ready: models.isReady(req.name, req.version || undefined) }),
    ServerMetadata: () => ({ name: 'inferscope', version: deps.version, extensions: EXTENSIONS }),
    ModelMetadata: (req: { name: string; version: string }) => models.metadata(req.name, req.version || undefined),
    ModelInfer: async (req: ModelInferRequest, call) => {
      const { payload, raw } = toInferPayload(req);
      // The call's deadline is the request's: it lowers the queue deadline like `timeout` does.
      const deadline = call.getDeadline(); // a Date, or ms since the epoch (Infinity: none)
      const left = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
      if (Number.isFinite(left)) {
        const params = (payload.body as { parameters: Record<string, unknown> }).parameters;
        const us = Math.max(1, Math.floor(left * 1000));
        if (typeof params.timeout !== 'number' || params.timeout === 0 || params.timeout > us) params.timeout = us;
      }
      const cancel = new Cancellation();
      call.once('cancelled', () => cancel.cancel());
      const built = await inference.infer(req.model_name, req.model_version || undefined, payload, cancel);
      return fromBuiltResponse(built, raw);
    },
    ...tritonHandlers(deps),
  };

  // A message that is not valid protobuf would be grpc-js's INTERNAL error; it is the client's
  // mistake (INVALID_ARGUMENT, as Triton answers), so decoding failures reach the handler as such.
  for (const method of Object.values(service)) {
    const decode = method.requestDeserialize;
    method.requestDeserialize = (bytes: Buffer) => {
      try {
        return decode(bytes);
      } catch (err) {
        return { [MALFORMED]: (err as Error).message };
      }
    };
  }

  const implementation: UntypedServiceImplementation = {};
  for (const name of Object.keys(service)) {
    const handler = handlers[name];
    if (!handler) throw new Error(`no handler for RPC ${name}`);
    implementation[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const ticket = {};
      const fail = (err: unknown) => {
        const e = toGrpcError(err);
        if (e.internal) logger.error('gRPC call failed', { rpc: name, error: (err as Error)?.stack ?? String(err) });
        else logger.debug('gRPC call rejected', { rpc: name, code: Status[e.code], error: e.details });
        deps.metrics.onGrpc(name, Status[e.code]!);
        callback({ code: e.code, details: e.details, metadata: new Metadata() });
      };
      try {
        if (verify && !OPEN_RPCS.has(name)) verify(first(call.metadata.get('authorization')));
        const malformed = (call.request as { [MALFORMED]?: string } | undefined)?.[MALFORMED];
        if (malformed !== undefined) throw new InvalidInputError(`the ${name} message is not valid protobuf (${malformed})`);
        if (drain.isDraining && !OPEN_RPCS.has(name)) throw new ShuttingDownError('the agent is shutting down and takes no new requests');
        drain.hold(ticket);
      } catch (err) {
        return fail(err);
      }
      Promise.resolve()
        .then(() => handler(call.request, call))
        .then(
          (answer) => {
            deps.metrics.onGrpc(name, 'OK');
            callback(null, answer);
          },
          (err: unknown) => fail(err),
        )
        .finally(() => drain.detach(ticket));
    };
  }

  const server = new Server({
    // The body limit of the REST door bounds a message too (RESOURCE_EXHAUSTED beyond it).
    'grpc.max_receive_message_length': deps.bodyLimitBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(service, implementation);
  widenFlowControl(server, 'before');
  const port = await new Promise<number>((resolve, reject) => {
    const address = opts.host.includes(':') ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`;
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  widenFlowControl(server, 'after');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    force: () => server.forceShutdown(),
  };
}

function first(values: (string | Buffer)[]): string | undefined {
  const v = values[0];
  return v === undefined ? undefined : String(v);
}

/** HTTP/2 flow-control window for requests: a 64-row request (200 KB) fits without a round trip. */
const FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

/**
 * HTTP/2 starts every stream and connection with a 64 KiB receive window, and grpc-js's server
 * offers no option to change it (its client has grpc-node.flow_control_window; grpc/grpc-node
 * PR #3058 adds it to the server). A 200 KB request then waits for window updates from a busy
 * event loop: measured, 64 rows per call ran at 22k rows/s against 205k in process. Until the
 * option exists, the window is set through grpc-js's server settings and each new session; if
 * a grpc-js release renames those internals, this does nothing and the defaults stay.
 */
function widenFlowControl(server: Server, phase: 'before' | 'after'): void {
  const internals = server as unknown as { commonServerOptions?: { settings?: Record<string, unknown> }; http2Servers?: Map<EventEmitter, unknown> };
  if (phase === 'before') {
    if (internals.commonServerOptions) internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: FLOW_CONTROL_WINDOW };
    return;
  }
  for (const http2Server of internals.http2Servers?.keys() ?? []) {
    http2Server.on('session', (session: { setLocalWindowSize?(n: number): void }) => session.setLocalWindowSize?.(FLOW_CONTROL_WINDOW));
  }
}
