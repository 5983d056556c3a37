// The schema of models/<name>/config.json (Triton's model configuration, in JSON, with the
// fields Inferscope uses). Unknown fields are errors so that typos do not go unnoticed.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { describeZodIssues } from '../config/zodIssues.js';
import { breakerSettingsSchema } from '../resilience/breakerSettings.js';
import { featureSettingsSchema } from '../features/featureSettings.js';
import { applyModelDefaults, type ModelDefaults } from './modelDefaults.js';

export const EXECUTION_PROVIDERS = ['webgpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

const cacheMode = z.enum(['disabled', 'lazyRelease', 'simple', 'bucket']);
const deviceOptions = z.object({ deviceId: z.int().min(0, 'expected a device index from 0') }).partial().strict();

/**
 * Each provider's session options, as onnxruntime-node 1.30 takes them (onnxruntime-common's
 * ExecutionProviderOptionMap); an option it does not know would throw "unrecognized option" at
 * load, so it is refused here, by name, before anything starts.
 */
const PROVIDER_OPTIONS = {
  webgpu: z
    .object({
      preferredLayout: z.enum(['NCHW', 'NHWC']),
      // 'disabled' can crash the process on a WebGPU error (onnxruntime-common's own warning).
      validationMode: z.enum(['wgpuOnly', 'basic', 'full']),
      enableRobustness: z.boolean(),
      storageBufferCacheMode: cacheMode,
      uniformBufferCacheMode: cacheMode,
      queryResolveBufferCacheMode: cacheMode,
      defaultBufferCacheMode: cacheMode,
      forceCpuNodeNames: z.array(z.string()),
    })
    .partial()
    .strict(),
  cuda: deviceOptions,
  tensorrt: deviceOptions,
  dml: deviceOptions,
  coreml: z.object({ coreMlFlags: z.int().min(0), useCPUOnly: z.boolean(), useCPUAndGPU: z.boolean(), enableOnSubgraph: z.boolean(), onlyEnableDeviceWithANE: z.boolean() }).partial().strict(),
  cpu: z.object({ useArena: z.boolean() }).partial().strict(),
} satisfies Record<ExecutionProvider, z.ZodType>;

const providerWithOptions = z.discriminatedUnion(
  'name',
  EXECUTION_PROVIDERS.map((name) => z.object({ name: z.literal(name), options: PROVIDER_OPTIONS[name].optional() }).strict()) as unknown as [
    z.ZodObject<{ name: z.ZodLiteral<ExecutionProvider>; options: z.ZodOptional<z.ZodObject> }>,
  ],
  { error: `expected {"name": one of ${EXECUTION_PROVIDERS.join(', ')}, "options": {…}}` },
);

const providerEntry = z.union([z.enum(EXECUTION_PROVIDERS, `expected one of ${EXECUTION_PROVIDERS.join(', ')}`), providerWithOptions]);

/** A provider as config.json names it: a name, or a name with session options. */
export type ProviderEntry = z.infer<typeof providerEntry>;

export interface ProviderSpec {
  name: ExecutionProvider;
  options: Record<string, unknown>;
}

/** The providers of a config, in order, each with its options ({} when none). */
export function providerSpecs(entries: readonly ProviderEntry[]): ProviderSpec[] {
  return entries.map((e) => (typeof e === 'string' ? { name: e, options: {} } : { name: e.name, options: { ...e.options } }));
}

/** The providers' names, in order. */
export function providerNames(entries: readonly ProviderEntry[]): ExecutionProvider[] {
  return entries.map((e) => (typeof e === 'string' ? e : e.name));
}

/** Triton sets no bound; batches past a few thousand rows only cost memory. */
export const MAX_BATCH_SIZE = 65_536;

const nonNegativeInt = z.int().min(0, 'expected a non-negative integer');

const dynamicBatchingSchema = z
  .object({
    max_queue_delay_ms: z.number().min(0, 'expected milliseconds from 0 to 60000').max(60_000, 'expected milliseconds from 0 to 60000').default(0),
    preferred_batch_size: z.array(z.int().min(1, 'expected batch sizes >= 1')).default([]),
    max_queue_size: nonNegativeInt.default(0).describe('0 = unbounded'),
    default_timeout_ms: z.int().min(0, 'expected milliseconds from 0 to 3600000').max(3_600_000, 'expected milliseconds from 0 to 3600000').default(0).describe('0 = no deadline'),
  })
  .strict();

export const modelConfigSchema = z
  .object({
    name: z.string().optional().describe('The model name; if given, it must be the folder name.'),
    platform: z.literal('onnxruntime_onnx', 'expected "onnxruntime_onnx"').default('onnxruntime_onnx').describe('Inferscope serves ONNX models with ONNX Runtime.'),
    // Bounded: warm-up and batches are sized by it (1e9 took a warm-up to 7.4 GB and crashed it).
    max_batch_size: nonNegativeInt
      .max(MAX_BATCH_SIZE, `expected an integer from 0 to ${MAX_BATCH_SIZE}`)
      .default(0)
      .describe('Most rows in one batch (the first dimension of every input and output is the batch); 0: the model has no batch dimension and every request runs alone.'),
    instance_count: z
      .int()
      .min(1, 'expected an integer from 1 to 64')
      .max(64, 'expected an integer from 1 to 64')
      .default(1)
      .describe('On CPU: inference instances (worker threads, each with its own session) per version. On a GPU provider: how many of the version\'s batches may wait on the device at once (one session per version).'),
    /** A single run (batch) taking longer ends its worker, which is replaced; 0 = no limit. */
    run_timeout_ms: z.int().min(0, 'expected milliseconds from 0 to 3600000').max(3_600_000, 'expected milliseconds from 0 to 3600000').default(60_000).describe('A batch running longer ends its instance, which is replaced; 0: no limit.'),
    intra_op_threads: z.int().min(0, 'expected 0 (ONNX Runtime default) or more').max(256).default(1).describe("ONNX Runtime's threads inside one operator, per instance; 0: its default."),
    execution_providers: z
      .array(providerEntry)
      .min(1, 'expected at least one execution provider')
      .default(['cpu'])
      .describe(
        'Tried in order; the first that loads the model wins (the fallback is logged and shown). A name, or {"name": …, "options": {…}} with the provider\'s session options. GPU providers (all but cpu) run every version placed on them in one device thread.',
      ),
    default_version: z.string().regex(/^[0-9]+$/, 'expected a version folder name like "1"').optional().describe('The version unversioned requests go to; default: the highest.'),
    labels: z.array(z.string()).optional().describe("Class names, in the order of the output's last dimension (classification and the prediction metrics use them)."),
    dynamic_batching: dynamicBatchingSchema.optional().describe("The dynamic batcher (Triton's dynamic_batching)."),
    breaker: breakerSettingsSchema.optional().describe('The circuit breaker of each version.'),
    features: featureSettingsSchema.optional().describe('Entity inference: where feature vectors come from, and their cache.'),
  })
  .strict();

export type ModelConfig = z.infer<typeof modelConfigSchema>;

/**
 * The JSON schema of config.json, for editors (the extension contributes it: typos are underlined
 * as you type). Written to resources/model-config.schema.json by `npm run schema`; a test keeps
 * the file equal to this.
 */
export function modelConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(modelConfigSchema, { io: 'input', target: 'draft-7' }),
    title: 'Inferscope model configuration (models/<name>/config.json)',
  };
}

/** Parses a config.json's text; errors name the file and the field. */
export function parseModelConfig(text: string, file: string, folderName: string, defaults: ModelDefaults = {}): ModelConfig {
  let raw: unknown;
  try {
    raw = applyModelDefaults(JSON.parse(text), defaults);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = modelConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file}: ${describeZodIssues(parsed.error)}`);
  const config = parsed.data;
  if (config.name !== undefined && config.name !== folderName) {
    throw new ConfigError(`${file}: field 'name': "${config.name}" must match the folder name "${folderName}"`);
  }
  if (config.max_batch_size > 0 && config.dynamic_batching) {
    const tooBig = config.dynamic_batching.preferred_batch_size.find((n) => n > config.max_batch_size);
    if (tooBig !== undefined) {
      throw new ConfigError(
        `${file}: field 'dynamic_batching.preferred_batch_size': ${tooBig} exceeds max_batch_size ${config.max_batch_size}`,
      );
    }
  }
  return config;
}
