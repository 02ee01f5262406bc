// Writes every chart's values.schema.json from one description, so the four charts share one definition of a
// workload (resources, autoscaling, probes, shutdown ...) and each chart's `config` lists exactly the env keys
// of its service's config schema (services/<svc>/src/config.ts), minus the keys the chart owns and minus
// secrets, which only come by reference (`secretEnv`). additionalProperties is false wherever the keys are
// known, so a misspelt key fails `helm lint`, `helm template` and `helm install`.
//
//   node charts/values-schema.mjs           writes the files
//   node charts/values-schema.mjs --check   exits 1 when a committed file differs (scripts/k8s/check-charts.sh)
import { readFile, writeFile } from 'node:fs/promises';

const here = new URL('.', import.meta.url);

// ---- building blocks ------------------------------------------------------------------------------------

const obj = (properties, extra = {}) => ({ type: 'object', additionalProperties: false, properties, ...extra });
const str = (extra = {}) => ({ type: 'string', ...extra });
const bool = { type: 'boolean' };
const int = (minimum, maximum) => ({
  type: 'integer',
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum }),
});
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const anyObject = { type: 'object' };
const listOf = (items) => ({ type: 'array', items });
const dns1123Label = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const quantity = { type: ['string', 'number'], pattern: '^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$' };

// Env values: numbers may be written as numbers or as digit strings (env is text in the end).
const envInt = (minimum, maximum) => ({
  type: ['integer', 'string'],
  pattern: '^-?[0-9]+$',
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum }),
});
const envNumber = (minimum, maximum) => ({ type: ['number', 'string'], pattern: '^[0-9.]+$', minimum, maximum });
const envEnum = (values) => ({ type: 'string', enum: values });

const secretRef = obj(
  {
    name: str({ minLength: 1, description: 'an existing Secret in the namespace of the pods' }),
    key: str({ minLength: 1 }),
    optional: bool,
  },
  { required: ['name', 'key'] },
);

const global = obj({
  imageRegistry: str(),
  imageTag: { type: ['string', 'number'] },
  imagePullSecrets: listOf(str({ minLength: 1 })),
  nodePoolLabelKey: str(),
  keda: obj({ enabled: bool }),
});

const image = (extra = {}) =>
  obj({
    registry: str(),
    repository: str({ minLength: 1 }),
    tag: { type: ['string', 'number'] },
    digest: str({ pattern: '^(sha256:[a-f0-9]{64})?$' }),
    pullPolicy: envEnum(['Always', 'IfNotPresent', 'Never']),
    ...extra,
  });

const resources = obj({
  requests: obj({ cpu: quantity, memory: quantity, 'ephemeral-storage': quantity }),
  limits: obj({ cpu: quantity, memory: quantity, 'ephemeral-storage': quantity }),
});

const scalingRules = obj({
  stabilizationWindowSeconds: int(0, 3600),
  selectPolicy: envEnum(['Max', 'Min', 'Disabled']),
  policies: listOf(
    obj(
      { type: envEnum(['Pods', 'Percent']), value: int(1), periodSeconds: int(1, 1800) },
      { required: ['type', 'value', 'periodSeconds'] },
    ),
  ),
  tolerance: quantity,
});

const autoscaling = obj({
  enabled: bool,
  // >= 1: a CPU-scaled workload cannot come back from zero (and KEDA would scale it to zero).
  minReplicas: int(1, 1000),
  maxReplicas: int(1, 1000),
  targetCPUUtilizationPercentage: int(1, 1000),
  behavior: obj({ scaleUp: scalingRules, scaleDown: scalingRules }),
});

// No `required` inside a workload: a BFF role gives only what differs from roles.default, and the merge
// happens in the template, after validation.
const spread = {
  oneOf: [
    { type: 'null' },
    obj({ maxSkew: int(1), whenUnsatisfiable: envEnum(['DoNotSchedule', 'ScheduleAnyway']) }),
  ],
};

const probe = (extra = {}) =>
  obj({ periodSeconds: int(1, 300), timeoutSeconds: int(1, 60), failureThreshold: int(1, 1000), ...extra });

const peer = obj({ podSelector: anyObject, namespaceSelector: anyObject, ipBlock: anyObject });

const networkPolicy = (extra = {}) =>
  obj({ enabled: bool, from: listOf(peer), metricsFrom: listOf(peer), ...extra });

const envVar = obj({ name: str({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), value: str(), valueFrom: anyObject }, {
  required: ['name'],
});

/** The settings of one workload: a BFF role (merged over roles.default) or geo's / ml-proxy's top level. */
const workload = ({ config, secrets }) => ({
  replicas: int(0, 1000),
  resources,
  autoscaling,
  pdb: obj({ enabled: bool, maxUnavailable: { type: ['integer', 'string'], pattern: '^[0-9]+%$', minimum: 0 } }),
  nodePool: str({ pattern: `^(${dns1123Label.slice(1, -1)})?$` }),
  nodeSelector: stringMap,
  tolerations: listOf(anyObject),
  affinity: anyObject,
  topologySpread: obj({ enabled: bool, zone: spread, hostname: spread }),
  priorityClassName: str(),
  podAnnotations: stringMap,
  podLabels: stringMap,
  config: obj(config),
  secretEnv: obj(Object.fromEntries(secrets.map((k) => [k, secretRef]))),
  extraEnv: listOf(envVar),
  probes: obj({
    startup: probe(),
    readiness: probe({ successThreshold: int(1, 1) }),
    liveness: probe(),
  }),
  shutdown: obj({
    preStopSleepSeconds: int(1, 120),
    delayMs: int(0, 120000),
    timeoutMs: int(0, 300000),
    extraGraceSeconds: int(1, 600),
    terminationGracePeriodSeconds: int(1, 3600),
  }),
  service: obj({
    type: envEnum(['ClusterIP', 'NodePort', 'LoadBalancer']),
    port: int(1, 65535),
    annotations: stringMap,
  }),
  serviceAccount: obj({ create: bool, name: str(), annotations: stringMap }),
  serviceMonitor: obj({ enabled: bool, interval: str(), scrapeTimeout: str(), labels: stringMap }),
  readOnlyRootFilesystem: bool,
  tmpSizeLimit: quantity,
  extraVolumes: listOf(anyObject),
  extraVolumeMounts: listOf(anyObject),
});

const datadog = obj({
  enabled: bool,
  env: str(),
  tracing: bool,
  metrics: bool,
  logs: bool,
  metricsNamespace: str(),
});

// ---- env keys per service (config.ts), without PORT, SHUTDOWN_* and DD_TRACE_ENABLED (the chart's) ------

const kitEnv = {
  HOST: str(),
  LOG_LEVEL: envEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  MAX_EVENT_LOOP_DELAY_MS: envInt(0),
  MAX_IN_FLIGHT: envInt(0, 1000000),
  MAX_QUEUE_MS: envInt(0, 60000),
  REQUEST_TIMEOUT_MS: envInt(1),
  ACCESS_LOG: envEnum(['all', 'errors-and-slow', 'off']),
  SLOW_REQUEST_MS: envInt(0),
};

const cacheTuning = {
  CACHE_TTL_JITTER: envNumber(0, 1),
  CACHE_L1_MAX_ENTRIES: envInt(1),
  CACHE_L1_MAX_BYTES: envInt(1),
  CACHE_L2_TIMEOUT_MS: envInt(1, 10000),
  CACHE_CONNECT_TIMEOUT_MS: envInt(1),
  CACHE_BREAKER_FAILURES: envInt(1),
  CACHE_BREAKER_RESET_MS: envInt(1),
};

const bffEnv = {
  ...kitEnv,
  // @eta/cache (REDIS_URL is a secret)
  CACHE_KEY_PREFIX: str(),
  CACHE_TTL_MS: envInt(1),
  CACHE_STALE_MS: envInt(0),
  CACHE_INVALIDATION: bool,
  ...cacheTuning,
  // adapters/db/env.ts (DATABASE_URL is a secret)
  DATABASE_POOL_MAX: envInt(1, 100),
  DATABASE_CONNECT_TIMEOUT_MS: envInt(1),
  DATABASE_STATEMENT_TIMEOUT_MS: envInt(1),
  DATABASE_IDLE_TIMEOUT_MS: envInt(1),
  PGLITE_DATA_DIR: str(),
  MIGRATE_ON_START: bool,
  SEED_ON_START: bool,
  SEED_STORES: envInt(1, 1000000),
  // auth/config.ts (SERVICE_TOKENS is a secret; AUTH_DEV_KEYS is never allowed in a deployment)
  AUTH_ISSUER: str({ minLength: 1 }),
  AUTH_AUDIENCE: str({ minLength: 1 }),
  AUTH_JWKS_URL: str({ pattern: '^https?://' }),
  AUTH_PUBLIC_KEY: str({ minLength: 1 }),
  AUTH_ALGORITHMS: str({
    pattern: '^\\s*(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA)(\\s*,\\s*(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA))*\\s*$',
  }),
  AUTH_CLOCK_TOLERANCE_SECONDS: envInt(0, 300),
  AUTH_VERIFIED_CACHE_ENTRIES: envInt(0, 1000000),
  AUTH_VERIFIED_CACHE_SECONDS: envInt(1, 86400),
  TRUST_MESH_IDENTITY_HEADER: str({ pattern: '^[A-Za-z0-9-]{1,100}$' }),
  ADMIN_RATE_LIMIT_PER_MINUTE: envInt(1, 1000000),
  ADMIN_RATE_LIMIT_BURST: envInt(1, 100000),
  // The estimate API's limit per calling service, per pod; 0 = off (auth/config.ts).
  SERVICE_RATE_LIMIT_PER_SECOND: envInt(0, 10000000),
  SERVICE_RATE_LIMIT_BURST: envInt(1, 10000000),
  ADMIN_WEB_DIR: str({ minLength: 1 }),
  // config.ts (ROLE, GEO_URL and ML_PROXY_URL are the chart's)
  ESTIMATE_BUDGET_MS: envInt(1, 10000),
  ESTIMATE_RESERVE_MS: envInt(0, 1000),
  GEO_TIMEOUT_MS: envInt(1, 10000),
  ML_TIMEOUT_MS: envInt(1, 10000),
  DEPENDENCY_MIN_BUDGET_MS: envInt(0, 1000),
  DEPENDENCY_RETRY: bool,
  BREAKER_FAILURES: envInt(1, 1000),
  BREAKER_RESET_MS: envInt(10, 600000),
  DEPENDENCY_COALESCE: bool,
  GEO_COALESCE_MAX_PAIRS: envInt(1, 500),
  ML_COALESCE_MAX_ROWS: envInt(1, 10000),
  GEO_CONNECTIONS: envInt(1, 1024),
  ML_CONNECTIONS: envInt(1, 1024),
  MODEL_LAYOUT_REFRESH_SECONDS: envInt(1, 3600),
  WARMUP_MAX_STORES: envInt(0, 10000000),
  WARMUP_ESTIMATES: envInt(0, 1000000),
  ROUGH_H3_RESOLUTION: envInt(5, 11),
  ROUGH_TIME_BUCKET_MINUTES: { enum: [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] },
  ROUGH_CACHE_MAX_ENTRIES: envInt(1),
  ROUGH_CACHE_MAX_BYTES: envInt(1),
  // The prediction log (KAFKA_BROKERS, KAFKA_SSL* and KAFKA_SASL_* come from the role's `kafka` block)
  PREDICTION_LOG: bool,
  KAFKA_TOPIC_PREFIX: str({ pattern: '^[a-zA-Z0-9._-]{0,100}$' }),
  EVENTS_BUFFER_MAX_EVENTS: envInt(1, 1000000),
  EVENTS_BUFFER_MAX_BYTES: envInt(1024, 1073741824),
  EVENTS_LINGER_MS: envInt(0, 10000),
  EVENTS_MAX_BATCH: envInt(1, 10000),
  EVENTS_SEND_TIMEOUT_MS: envInt(100, 120000),
  // The event consumers (ROLE=events): whether a process runs them (auto = on for ROLE=events, and for
  // ROLE=all only on the in-process bus), their group on `orders` and `predictions`, how long they keep
  // receipts and unjoined halves, and the live statistics they write where Geo reads them.
  EVENT_CONSUMERS: envEnum(['auto', 'on', 'off']),
  EVENTS_CONSUMER_GROUP: str({ pattern: '^[a-zA-Z0-9._-]{1,200}$' }),
  EVENTS_RECEIPT_RETENTION_HOURS: envInt(1, 720),
  ACCURACY_JOIN_WINDOW_HOURS: envInt(1, 168),
  ACCURACY_RETENTION_DAYS: envInt(1, 3650),
  LIVE_STATS_INTERVAL_MS: envInt(100, 600000),
  // Geo's GEO_LIVE_KEY_NAMESPACE (charts/suite fails the render when the two differ).
  LIVE_STATS_NAMESPACE: str({ maxLength: 100 }),
  // Training rows to BigQuery (the events role; docs/adr/0007-training-rows.md): unset project = they stay
  // in Postgres. Credentials by Workload Identity (the role's ServiceAccount annotation), never a key; the
  // emulator's BIGQUERY_EMULATOR_HOST is for tests, not a deployment.
  BIGQUERY_PROJECT: str({ pattern: '^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$' }),
  BIGQUERY_DATASET: str({ pattern: '^[A-Za-z0-9_]+$', maxLength: 1024 }),
  BIGQUERY_LOCATION: str({ pattern: '^[A-Za-z0-9-]{2,64}$' }),
  BIGQUERY_API_ENDPOINT: str({ pattern: '^https?://' }),
  TRAINING_ROWS_RETENTION_DAYS: envInt(1, 3650),
  TRAINING_ROWS_SHIPPED_RETENTION_HOURS: envInt(0, 8760),
  TRAINING_ROWS_SHIP_INTERVAL_MS: envInt(50, 600000),
  TRAINING_ROWS_SHIP_BATCH: envInt(1, 10000),
  TRAINING_ROWS_SHIP_TIMEOUT_MS: envInt(100, 600000),
  TRAINING_ROWS_SHIP_MAX_BACKOFF_MS: envInt(100, 3600000),
};

const geoEnv = {
  ...kitEnv,
  ...cacheTuning,
  CACHE_TTL_MS: envInt(1, 300000),
  CACHE_STALE_MS: envInt(0, 300000),
  GEO_DATA_DIR: str({ minLength: 1 }),
  GEO_LIVE_KEY_NAMESPACE: str(),
  GEO_LIVE_MAX_AGE_SECONDS: envInt(1, 86400),
};

const mlEnv = {
  ...kitEnv,
  MODEL_REPOSITORY: str({ minLength: 1 }),
  MODELS: str({ pattern: '^[a-z0-9][a-z0-9_.-]{0,63}(,[a-z0-9][a-z0-9_.-]{0,63})*$' }),
  MODEL_POLL_INTERVAL_SECONDS: envNumber(0, 3600),
  // A JSON object keyed by model name; a map in values is rendered as JSON.
  MODEL_SETTINGS: { type: ['string', 'object'] },
  MODEL_DEADLINE_MS: envInt(1, 60000),
  MODEL_LOAD_VERSIONS: envEnum(['served', 'all']),
  FALLBACK_ENABLED: bool,
  ORT_INTRA_OP_THREADS: envInt(1, 64),
  ORT_EXECUTION: envEnum(['auto', 'thread', 'inline']),
  ORT_INLINE_MAX_ROWS: envInt(0, 100000),
  MAX_BATCH_ROWS: envInt(1, 100000),
  WARMUP_RUNS: envInt(0, 10000),
  REQUIRE_GOLDEN: bool,
  SHADOW_MAX_INFLIGHT: envInt(0, 1000),
};

// ---- the charts -----------------------------------------------------------------------------------------

const schemaHeader = { $schema: 'http://json-schema.org/draft-07/schema#' };

// A role's Kafka connection (templates/_render.tpl renders it as KAFKA_* env): the credentials only as the
// name of an existing Secret and its keys, so no password can be written into values.
const kafka = obj({
  brokers: str({ pattern: '^([^\\s:,]+:[0-9]{1,5}(,[^\\s:,]+:[0-9]{1,5})*)?$' }),
  ssl: bool,
  sslCaFile: str({ pattern: '^(/.*)?$' }),
  sasl: obj({
    mechanism: envEnum(['', 'plain', 'scram-sha-256', 'scram-sha-512']),
    existingSecret: str({ pattern: `^(${dns1123Label.slice(1, -1)}(\\.${dns1123Label.slice(1, -1)})*)?$`, maxLength: 253 }),
    usernameKey: str({ pattern: '^[-._a-zA-Z0-9]+$' }),
    passwordKey: str({ pattern: '^[-._a-zA-Z0-9]+$' }),
  }),
});

const bffRole = obj({
  enabled: bool,
  namespace: str({ pattern: `^(${dns1123Label.slice(1, -1)})?$`, maxLength: 63 }),
  ...workload({ config: bffEnv, secrets: ['DATABASE_URL', 'REDIS_URL', 'SERVICE_TOKENS', 'AUTH_PUBLIC_KEY'] }),
  kafka,
  networkPolicy: networkPolicy(),
});

const roleRef = { $ref: '#/definitions/role' };

// The migration Job (templates/migrations.yaml): src/cli/migrate.ts reads only the database keys and LOG_LEVEL.
const pick = (from, keys) => Object.fromEntries(keys.map((k) => [k, from[k]]));
const migrations = obj({
  enabled: bool,
  namespace: str({ pattern: `^(${dns1123Label.slice(1, -1)})?$`, maxLength: 63 }),
  // Never optional: a missing Secret must fail the Job, not let it migrate an in-pod PGlite.
  secretEnv: obj({
    DATABASE_URL: obj(
      { name: str({ minLength: 1, description: 'an existing Secret in the namespace of the Job' }), key: str({ minLength: 1 }) },
      { required: ['name', 'key'] },
    ),
  }),
  config: obj(
    pick(bffEnv, [
      'LOG_LEVEL',
      'DATABASE_POOL_MAX',
      'DATABASE_CONNECT_TIMEOUT_MS',
      'DATABASE_STATEMENT_TIMEOUT_MS',
      'DATABASE_IDLE_TIMEOUT_MS',
    ]),
  ),
  extraEnv: listOf(envVar),
  backoffLimit: int(0, 20),
  activeDeadlineSeconds: int(10, 86400),
  // Argo CD waits forever for a hook Job deleted by its TTL before Argo saw it finish (argoproj/argo-cd#21055).
  ttlSecondsAfterFinished: int(300, 2592000),
  resources,
  nodeSelector: stringMap,
  tolerations: listOf(anyObject),
  serviceAccountName: str(),
  podAnnotations: stringMap,
  podLabels: stringMap,
  tmpSizeLimit: quantity,
});

const vendorBff = {
  ...schemaHeader,
  title: 'vendor-bff values',
  definitions: { role: bffRole },
  ...obj({
    global,
    // The library chart's values (Helm adds them; lib has none of its own).
    lib: anyObject,
    enabled: bool,
    nameOverride: str(),
    fullnameOverride: str(),
    image: image(),
    imagePullSecrets: listOf(str({ minLength: 1 })),
    nodePoolLabelKey: str({ minLength: 1 }),
    upstreams: obj({ geoUrl: str({ pattern: '^(https?://.+)?$' }), mlProxyUrl: str({ pattern: '^(https?://.+)?$' }) }),
    datadog,
    ingress: obj({
      enabled: bool,
      className: str(),
      annotations: stringMap,
      host: str(),
      path: str({ pattern: '^/' }),
      pathType: envEnum(['Prefix', 'Exact', 'ImplementationSpecific']),
      tls: listOf(obj({ secretName: str(), hosts: listOf(str()) })),
    }),
    migrations,
    // Only the deployable roles (ROLE=all is for local runs and tests): a misspelt role fails.
    roles: obj({ default: roleRef, precise: roleRef, rough: roleRef, admin: roleRef, events: roleRef }),
  }),
};

// The ML proxy chart's retrain CronJob (ml/eta_models/retrain.py, issue 13): its own image and settings.
const retrainJob = () =>
  obj({
    enabled: bool,
    schedule: str({ pattern: '^\\S+( \\S+){4}$', description: 'five cron fields, in timeZone' }),
    timeZone: str({ minLength: 1, description: 'IANA zone of the schedule' }),
    image: image(),
    model: str({ pattern: dns1123Label }),
    source: str({ pattern: '^(bigquery://[^/]+/[A-Za-z0-9_]+)?$', description: 'bigquery://<project>/<dataset>' }),
    sourceSecret: obj({ name: str(), key: str() }),
    days: int(2, 90),
    holdoutDays: int(1, 14),
    margin: { type: 'number', minimum: 0, maximum: 10 },
    validationTolerance: { type: 'number', minimum: 0, maximum: 1 },
    validationDecimals: str({ pattern: '^([0-9]|exact)$' }),
    continueRounds: int(1, 1000),
    modelRepository: obj({ volume: anyObject, mountPath: str({ pattern: '^/.+' }) }),
    referenceData: obj({ volume: anyObject, mountPath: str({ pattern: '^/.+' }), file: str({ minLength: 1 }) }),
    reportDir: str({ pattern: '^/.+' }),
    resources,
    activeDeadlineSeconds: int(60, 86400),
    backoffLimit: int(0, 5),
    startingDeadlineSeconds: int(10, 86400),
    successfulJobsHistoryLimit: int(0, 20),
    failedJobsHistoryLimit: int(0, 20),
    ttlSecondsAfterFinished: int(0, 2592000),
    nodePool: str({ pattern: `^(${dns1123Label.slice(1, -1)})?$` }),
    nodeSelector: stringMap,
    tolerations: listOf(anyObject),
    podAnnotations: stringMap,
    serviceAccount: obj({ create: bool, name: str(), annotations: stringMap }),
    extraEnv: listOf(envVar),
    tmpSizeLimit: quantity,
  });

const serviceChart = (title, env, secrets, extra = {}) => ({
  ...schemaHeader,
  title,
  ...obj({
    global,
    lib: anyObject,
    enabled: bool,
    nameOverride: str(),
    fullnameOverride: str(),
    component: str({ pattern: `^(${dns1123Label.slice(1, -1)})?$` }),
    image: image(),
    imagePullSecrets: listOf(str({ minLength: 1 })),
    nodePoolLabelKey: str({ minLength: 1 }),
    datadog,
    ...workload({ config: env, secrets }),
    networkPolicy: networkPolicy({
      clients: obj({
        namespaces: listOf(str({ pattern: dns1123Label })),
        instance: str(),
        podLabels: stringMap,
      }),
    }),
    ...extra,
  }),
});

const TARGETS = ['vendor-bff-precise', 'vendor-bff-rough', 'vendor-bff-admin', 'geo', 'ml-proxy'];
const perTarget = (value) => obj(Object.fromEntries(TARGETS.map((t) => [t, value])), { minProperties: 1 });
const perPool = (value) => ({
  type: 'object',
  propertyNames: { pattern: dns1123Label, maxLength: 40 },
  additionalProperties: value,
});
const cron = str({ pattern: '^\\S+( \\S+){4}$', description: 'five cron fields, in timeZone' });
const name = str({ pattern: dns1123Label, maxLength: 30 });

const suite = {
  ...schemaHeader,
  title: 'suite values',
  ...obj({
    global,
    // Subcharts: validated by their own schemas (Helm checks each with its values).
    'vendor-bff': anyObject,
    geo: anyObject,
    'ml-proxy': anyObject,
    lib: anyObject,
    timeZone: str({ minLength: 1, description: 'IANA zone of every schedule (CronJobs and KEDA cron triggers)' }),
    prescale: obj({
      enabled: bool,
      image: image(),
      command: { ...listOf(str({ minLength: 1 })), minItems: 1 },
      imagePullSecrets: listOf(str({ minLength: 1 })),
      startingDeadlineSeconds: int(10, 86400),
      backoffLimit: int(0, 20),
      activeDeadlineSeconds: int(10, 3600),
      ttlSecondsAfterFinished: int(0, 2592000),
      successfulJobsHistoryLimit: int(0, 100),
      failedJobsHistoryLimit: int(0, 100),
      requestTimeoutMs: int(100, 300000),
      resources,
      nodeSelector: stringMap,
      tolerations: listOf(anyObject),
      podAnnotations: stringMap,
      schedules: listOf(
        obj(
          {
            name,
            schedule: cron,
            minReplicas: perTarget(int(1, 1000)),
            placeholders: perPool(int(0, 1000)),
          },
          { required: ['name', 'schedule'], anyOf: [{ required: ['minReplicas'] }, { required: ['placeholders'] }] },
        ),
      ),
    }),
    placeholders: obj({
      enabled: bool,
      image: image(),
      // Above the cluster autoscaler's expendable cut-off (-10): it still adds nodes for them.
      priorityClass: obj({ create: bool, name: str(), value: int(-9, -1) }),
      pools: perPool(
        obj(
          { replicas: int(0, 1000), workload: envEnum(TARGETS) },
          { required: ['workload'] },
        ),
      ),
    }),
    keda: obj({
      pollingInterval: int(5, 600),
      cooldownPeriod: int(0, 3600),
      windows: listOf(
        obj(
          {
            name,
            start: cron,
            end: cron,
            desiredReplicas: perTarget(int(1, 1000)),
            placeholders: perPool(int(1, 1000)),
          },
          { required: ['name', 'start', 'end'], anyOf: [{ required: ['desiredReplicas'] }, { required: ['placeholders'] }] },
        ),
      ),
    }),
  }),
};

const files = {
  'vendor-bff/values.schema.json': vendorBff,
  'geo/values.schema.json': serviceChart('geo values', geoEnv, ['REDIS_URL']),
  'ml-proxy/values.schema.json': serviceChart('ml-proxy values', mlEnv, [], { retrain: retrainJob() }),
  'suite/values.schema.json': suite,
};

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, schema] of Object.entries(files)) {
  const url = new URL(path, here);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (check) {
    const old = await readFile(url, 'utf8').catch(() => '');
    if (old !== text) {
      console.error(`charts/${path} is not what charts/values-schema.mjs writes: run node charts/values-schema.mjs`);
      stale += 1;
    }
  } else {
    await writeFile(url, text);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
