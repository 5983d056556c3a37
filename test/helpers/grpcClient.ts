// A gRPC client of inference.GRPCInferenceService built from the agent's .proto files alone, with
// promise-returning calls that keep the status (code, details) of a failure.
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { inferenceServiceDefinition } from '../../agent/src/grpc/protoFiles.js';
import { ROOT } from './agentProcess.js';

/** A stock @grpc/grpc-js client class for inference.GRPCInferenceService, from the .proto files. */
export function inferenceClientClass(): ServiceClientConstructor {
  return makeGenericClientConstructor(inferenceServiceDefinition(join(ROOT, 'agent', 'proto')), 'GRPCInferenceService');
}

export interface CallOptions {
  token?: string;
  /** ms from now. */
  deadlineMs?: number;
  /** Called with the call object (to cancel it). */
  onCall?: (call: { cancel(): void }) => void;
  /** More metadata (e.g. traceparent). */
  metadata?: Record<string, string>;
}

export class InferenceClient {
  readonly raw: Client & Record<string, Function>;

  constructor(port: number, private readonly token?: string) {
    const Service = inferenceClientClass();
    this.raw = new Service(`127.0.0.1:${port}`, credentials.createInsecure()) as Client & Record<string, Function>;
  }

  call<T = any>(rpc: string, request: object, opts: CallOptions = {}): Promise<T> {
    const metadata = new Metadata();
    const token = opts.token ?? this.token;
    if (token) metadata.set('authorization', `Bearer ${token}`);
    for (const [key, value] of Object.entries(opts.metadata ?? {})) metadata.set(key, value);
    const options = opts.deadlineMs !== undefined ? { deadline: Date.now() + opts.deadlineMs } : {};
    return new Promise((resolve, reject) => {
      const call = this.raw[rpc]!.call(this.raw, request, metadata, options, (err: ServiceError | null, answer: T) => (err ? reject(err) : resolve(answer)));
      opts.onCall?.(call);
    });
  }

  /** The status of a call that must fail. */
  async failure(rpc: string, request: object, opts: CallOptions = {}): Promise<ServiceError> {
    try {
      await this.call(rpc, request, opts);
    } catch (err) {
      return err as ServiceError;
    }
    throw new Error(`${rpc} succeeded but was expected to fail`);
  }

  close(): void {
    this.raw.close();
  }
}
