import type { AgentStatus } from '../../../common/api.js';
import type { LevelledLogger } from '../log/logger.js';
import type { InferenceStatistics } from '../telemetry/inferenceStatistics.js';
import type { ModelManager } from '../models/modelManager.js';
import type { InferenceService } from '../serving/inferenceService.js';
import type { AgentMetrics } from '../telemetry/agentMetrics.js';
import type { FaultInjector } from '../faults/faultInjector.js';
import type { CanaryController } from '../canary/canaryController.js';
import type { DrainState } from './drainState.js';
import type { SseHub } from './sseHub.js';
import type { RequestLog } from '../tracing/requestLog.js';
import type { TraceSettings } from '../tracing/traceSettings.js';

/** What the HTTP layer needs from the rest of the agent. */
export interface AppDeps {
  version: string;
  host: string;
  /** Extra Host names accepted besides the loopback names and the bound address. */
  allowedHosts: string[];
  token?: string;
  bodyLimitBytes: number;
  /** Bytes of request bodies being received at once, by all requests (503 past it). */
  bodyBudgetBytes: number;
  models: ModelManager;
  inference: InferenceService;
  metrics: AgentMetrics;
  statistics: InferenceStatistics;
  drain: DrainState;
  events: SseHub;
  faults: FaultInjector;
  faultsEnabled: boolean;
  canaries: CanaryController;
  /** Where each inference request's record goes (REST and gRPC). */
  requests: RequestLog;
  /** Triton's trace settings (/v2/trace/setting): the OpenTelemetry export's sampling. */
  traceSettings: TraceSettings;
  logger: LevelledLogger;
  status(): AgentStatus;
}
