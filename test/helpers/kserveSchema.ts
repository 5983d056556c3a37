// A small JSON Schema (for ajv) of the KServe fields deploy/kserve/ uses, restated by hand from
// KServe's API types (serving.kserve.io v1alpha1 ServingRuntimeSpec, v1beta1 InferenceService
// PredictorSpec/ModelSpec) and the CRDs generated from them (kserve/kserve
// config/crd/full/serving.kserve.io_*.yaml). It is NOT the published CRD: the full CRDs are too
// large to vendor here, and the "minimal" CRDs KServe also ships preserve unknown fields (they
// validate nothing). What it checks: the required fields, types, enums and ranges of the fields
// listed, and that no field outside the listed ones is used at the levels restated (a typo such as
// `canaryTraficPercent` fails). Pod-level parts (containers, resources) are validated separately,
// with kubernetes-models' Pod schema.

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const metadata = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }, namespace: { type: 'string' }, labels: stringMap, annotations: stringMap },
  additionalProperties: false,
};

export const clusterServingRuntimeSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'serving.kserve.io/v1alpha1' },
    kind: { const: 'ClusterServingRuntime' },
    metadata,
    spec: {
      type: 'object',
      required: ['containers'],
      properties: {
        supportedModelFormats: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, version: { type: 'string' }, autoSelect: { type: 'boolean' }, priority: { type: 'integer', minimum: 1 } },
            additionalProperties: false,
          },
        },
        protocolVersions: { type: 'array', items: { enum: ['v1', 'v2', 'grpc-v1', 'grpc-v2'] } },
        multiModel: { type: 'boolean' },
        disabled: { type: 'boolean' },
        grpcEndpoint: { type: 'string' },
        grpcDataEndpoint: { type: 'string' },
        httpDataEndpoint: { type: 'string' },
        replicas: { type: 'integer', minimum: 0 },
        storageHelper: { type: 'object', properties: { disabled: { type: 'boolean' } }, additionalProperties: false },
        annotations: stringMap,
        labels: stringMap,
        nodeSelector: stringMap,
        containers: { type: 'array', minItems: 1, items: { type: 'object', required: ['name'] } },
        volumes: { type: 'array' },
        tolerations: { type: 'array' },
        affinity: { type: 'object' },
        imagePullSecrets: { type: 'array' },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

export const inferenceServiceSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'serving.kserve.io/v1beta1' },
    kind: { const: 'InferenceService' },
    metadata,
    spec: {
      type: 'object',
      required: ['predictor'],
      properties: {
        predictor: {
          type: 'object',
          properties: {
            canaryTrafficPercent: { type: 'integer', minimum: 0, maximum: 100 },
            minReplicas: { type: 'integer', minimum: 0 },
            maxReplicas: { type: 'integer', minimum: 0 },
            scaleTarget: { type: 'integer' },
            scaleMetric: { enum: ['cpu', 'memory', 'concurrency', 'rps'] },
            containerConcurrency: { type: 'integer', minimum: 0 },
            timeout: { type: 'integer', minimum: 0 },
            serviceAccountName: { type: 'string' },
            nodeSelector: stringMap,
            tolerations: { type: 'array' },
            model: {
              type: 'object',
              required: ['modelFormat'],
              properties: {
                modelFormat: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, version: { type: 'string' } }, additionalProperties: false },
                runtime: { type: 'string' },
                protocolVersion: { enum: ['v1', 'v2', 'grpc-v2'] },
                storageUri: { type: 'string', pattern: '^(s3|gs|pvc|hdfs|webhdfs|oci|hf|https?)://' },
                resources: { type: 'object' },
                env: { type: 'array' },
                args: { type: 'array', items: { type: 'string' } },
              },
              additionalProperties: false,
            },
          },
          required: ['model'],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};
