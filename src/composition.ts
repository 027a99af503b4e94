import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Configuration, ConfigurationError } from "./config/configuration.js";
import type { TokenVerifier } from "./domain/identity/tokenVerifier.js";
import type { ReadinessCheck } from "./domain/service/readiness.js";
import type { AuditLog } from "./domain/policy/auditLog.js";
import type { JobSlots } from "./domain/policy/jobSlots.js";
import type { NamespaceContainment } from "./domain/containment/namespaceContainment.js";
import type { SandboxPolicy } from "./domain/policy/policy.js";
import type { ArmClientFactory } from "./adapters/arm/armClients.js";
import type { ArmOperations } from "./domain/operations/armOperations.js";
import type { OperationEngine } from "./domain/operations/operationEngine.js";
import type { OperationKindRegistry } from "./domain/operations/operationKinds.js";
import type { RepeatabilityStore } from "./domain/operations/repeatability.js";
import type { ActiveOperationLookup, SandboxPreflightService } from "./domain/sandbox/sandboxPreflight.js";
import type { SandboxArm } from "./domain/sandbox/sandboxArm.js";
import type { ClusterKubernetesFactory } from "./domain/kubernetes/clusterKubernetes.js";
import type { JobService } from "./domain/jobs/jobService.js";
import type { OperationService } from "./domain/operations/operationService.js";
import type { ClusterService } from "./domain/sandbox/clusterService.js";
import type { SandboxPoolService } from "./domain/sandbox/sandboxPoolService.js";
import type { SandboxFeatureService } from "./domain/sandbox/sandboxFeatureService.js";
import type { IsolationCheckService } from "./domain/sandbox/isolationCheckService.js";
import type { HttpServices } from "./http/httpServices.js";
import type { WebhookService } from "./domain/webhooks/webhookService.js";
import type { WebhookDispatcher } from "./domain/webhooks/webhookDispatcher.js";
import { SandboxError } from "./domain/sandboxError.js";

/**
 * The composition root: the one module that builds real clients from the
 * configuration and hands them to the HTTP layer and the domain. Built on
 * first use, once per process (Functions instances keep module state between
 * invocations).
 */
export interface Services extends HttpServices {
  readonly configuration: Configuration;
  readonly tokenVerifier: TokenVerifier;
  readonly readinessChecks: readonly ReadinessCheck[];
  /** The team policy (roles × teams × scopes, quotas). */
  readonly policy: SandboxPolicy;
  /** Append-only audit records of mutating and denied requests. */
  readonly auditLog: AuditLog;
  /** The concurrent-jobs quota: `reserveJobSlot` / `releaseJobSlot`. */
  readonly jobSlots: JobSlots;
  readonly containment: NamespaceContainment;
  /** Kubernetes API clients per cluster (credentials via ARM listClusterUserCredential, in memory only). */
  readonly kubernetes: ClusterKubernetesFactory;
  /** The Jobs use-cases (rows in the `sandboxjobs` table, see docs/jobs-table.md). */
  readonly jobs: JobService;
  /** The Azure SDK clients (ARM_ENDPOINT, credential, emulator trust). */
  readonly armClients: ArmClientFactory;
  /** Long-running ARM calls for the operations engine. */
  readonly arm: ArmOperations;
  /** Operation kinds the engine runs (issue 6 registers its kinds here). */
  readonly operationKinds: OperationKindRegistry;
  /** The durable operations engine (rows in the `operations` table). */
  readonly operationEngine: OperationEngine;
  /** The operations use cases (status monitor, list, cancel, reconcile pass). */
  readonly operations: OperationService;
  /** The cluster use cases (create, get, delete, enable sandboxing). */
  readonly clusters: ClusterService;
  /** The sandbox-pool use cases (put, get, list, delete). */
  readonly sandboxPools: SandboxPoolService;
  /** The sandbox feature use cases (state, registration). */
  readonly sandboxFeature: SandboxFeatureService;
  /** The isolation-check use case. */
  readonly isolationChecks: IsolationCheckService;
  /** Replay records of `Repeatability-Request-ID` requests. */
  readonly repeatability: RepeatabilityStore;
  /** The sandbox preflight (pool PUTs, cluster creation, enable-sandboxing): ARM reads only. */
  readonly sandboxPoolPreflight: SandboxPreflightService;
  /** Synchronous ARM reads/writes of the sandbox infrastructure (features, providers, clusters, VM sizes). */
  readonly sandboxArm: SandboxArm;
  /** Our running/queued operation on a serial key (a cluster), if any. */
  readonly activeOperations: ActiveOperationLookup;
  /** Webhook subscriptions of teams (table `webhooks`; secrets sealed with WEBHOOK_SECRET_KEY). */
  readonly webhooks: WebhookService;
  /** The webhook timer's work: outbox → deliveries → signed POSTs. */
  readonly webhookDispatcher: WebhookDispatcher;
  /** One JSON object per line (level, msg, and context fields). */
  readonly log: (event: Record<string, unknown>) => void;
}

let built: Services | undefined;
let configurationProblem: ConfigurationError | undefined;
let loading: Promise<void> | undefined;

/**
 * The modules the services are built from, imported on first use: the Azure
 * SDKs, `@kubernetes/client-node`, `jose` and Ajv are most of a cold start, and
 * registering the functions needs none of them (`npm run bench`: coldStart).
 */
async function loadModules() {
  const modules = await Promise.all([
    import("./config/configuration.js"),
    import("./adapters/identity/jwksTokenVerifier.js"),
    import("./adapters/tables/tableClients.js"),
    import("./adapters/tables/auditTable.js"),
    import("./adapters/tables/jobSlotTable.js"),
    import("./domain/policy/jobSlots.js"),
    import("./domain/policy/teamResolution.js"),
    import("./adapters/arm/armClients.js"),
    import("./adapters/arm/azureArmOperations.js"),
    import("./adapters/tables/operationTable.js"),
    import("./adapters/tables/armBudgetTable.js"),
    import("./domain/operations/armBudget.js"),
    import("./domain/containment/namespaceContainment.js"),
    import("./adapters/tables/repeatabilityTable.js"),
    import("./domain/operations/operationEngine.js"),
    import("./domain/operations/operationKinds.js"),
    import("./domain/operations/kinds/sandboxPoolKinds.js"),
    import("./domain/operations/kinds/sandboxFeatureKind.js"),
    import("./domain/operations/kinds/clusterKinds.js"),
    import("./domain/sandbox/sandboxPreflight.js"),
    import("./adapters/arm/azureSandboxArm.js"),
    import("./adapters/arm/computeSkus.js"),
    import("./adapters/arm/armKubeconfigSource.js"),
    import("./adapters/kubernetes/kubernetesClusterClient.js"),
    import("./adapters/tables/jobTable.js"),
    import("./domain/jobs/jobService.js"),
    import("./domain/operations/kinds/isolationCheckKind.js"),
    import("./domain/sandbox/sandboxFlavor.js"),
    import("./domain/operations/operationService.js"),
    import("./domain/sandbox/clusterService.js"),
    import("./domain/sandbox/sandboxPoolService.js"),
    import("./domain/sandbox/sandboxFeatureService.js"),
    import("./domain/sandbox/isolationCheckService.js"),
    import("./domain/webhooks/webhookService.js"),
    import("./domain/webhooks/webhookDispatcher.js"),
    import("./adapters/tables/webhookTable.js"),
    import("./adapters/tables/outboxRows.js"),
    import("./adapters/webhooks/aesSecretCipher.js"),
    import("./adapters/webhooks/webhookTargetGuard.js"),
    import("./adapters/webhooks/httpWebhookSender.js"),
    import("./telemetry/jsonLog.js"),
    import("./telemetry/tracing.js"),
    import("./telemetry/metrics.js"),
  ]);
  const { DefaultAzureCredential } = await import("@azure/identity");
  return Object.assign({}, ...modules, { DefaultAzureCredential }) as UnionToIntersection<(typeof modules)[number]> & {
    DefaultAzureCredential: typeof DefaultAzureCredential;
  };
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * Builds a set of services from `env` (the process uses {@link loadServices}; in-process tests build their own
 * from an environment of their own, several per process). `writeLog` receives each JSON log line (default stdout).
 */
export async function buildServices(env: NodeJS.ProcessEnv, writeLog?: (line: string) => void): Promise<Services> {
  const m = await loadModules();
  const configuration = m.loadConfiguration(env);
  const log = m.jsonLogger(configuration.logLevel, writeLog);
  const armClients = new m.ArmClientFactory(configuration);
  const tables = m.tablesConnection(configuration.tables, {
    // Simulated mode may run Azurite over HTTPS with the emulators' certificate.
    ...(configuration.simulate && armClients.simulatedHttpClient ? { httpClient: armClients.simulatedHttpClient } : {}),
    ...(configuration.azureAuthorityHost ? { authorityHost: configuration.azureAuthorityHost } : {}),
  });
  // ARM calls end well before a claim expires, so no second instance can advance the same operation meanwhile.
  const arm = new m.AzureArmOperations(
    armClients,
    Math.min(30_000, (configuration.operations.claimSeconds * 1000) / 2),
  );
  const flavor = m.sandboxFlavor(configuration.flavor);
  const kubernetes = new m.KubernetesClientFactory({
    kubeconfigs: new m.ArmKubeconfigSource(armClients, flavor.containerServiceApiVersion),
    // Entra-integrated clusters (exec users): tokens for the AKS server app. Never needed against the emulators.
    ...(configuration.simulate
      ? {}
      : {
          tokens: new m.AzureAccessTokenSource(
            new m.DefaultAzureCredential(
              configuration.azureAuthorityHost ? { authorityHost: configuration.azureAuthorityHost } : {},
            ),
          ),
        }),
  });
  const jobSlots = new m.JobSlots(new m.JobSlotTable(m.tableClient(tables, m.JOB_SLOTS_TABLE)), configuration.policy);
  const sandboxArm = new m.AzureSandboxArm(armClients, new m.ComputeSkus(armClients));
  const operationStore = new m.TableOperationStore(tables);
  const activeOperations = m.activeOperationLookup(operationStore);
  const clusterDeps = { arm: sandboxArm, kubernetes, flavor };
  const containment = new m.NamespaceContainment({
    arm: sandboxArm,
    containerServiceApiVersion: flavor.containerServiceApiVersion,
    log: (event) => log({ component: "containment", ...event }),
  });
  const operationKinds = new m.OperationKindRegistry([
    m.createSandboxPoolKind(m.runtimeClassOrEnableSandboxingSteps(clusterDeps)),
    m.deleteSandboxPoolKind(),
    m.isolationCheckKind({ kubernetes, slots: jobSlots }),
    m.registerSandboxFeatureKind({ arm: sandboxArm, flavor, now: Date.now }),
    m.createClusterKind(clusterDeps),
    m.deleteClusterKind(clusterDeps),
    m.enableSandboxingKind(clusterDeps),
  ]);
  const operationEngine = new m.OperationEngine({
    store: operationStore,
    arm,
    kinds: operationKinds,
    // One ARM budget per subscription for all instances together (Table-backed, ETag-guarded).
    budget: new m.SharedArmBudget(
      new m.TableArmBudgetLedger(m.tableClient(tables, m.ARM_BUDGET_TABLE)),
      configuration.operations.armBudgetPerMinute,
      configuration.simulate ? configuration.simTimeScale : 1,
    ),
    settings: {
      scale: configuration.simulate ? configuration.simTimeScale : 1,
      concurrency: configuration.operations.concurrency,
      armBudgetPerMinute: configuration.operations.armBudgetPerMinute,
      retentionDays: configuration.operations.retentionDays,
      claimMs: configuration.operations.claimSeconds * 1000,
      passMs: configuration.operations.passSeconds * 1000,
    },
    log: (event) => log({ component: "operations", ...event }),
    tracing: m.otelOperationTracing,
    // The domain takes its clock and its sleep from here.
    now: Date.now,
    sleep: (ms) => sleep(ms),
  });
  const preflight = new m.SandboxPreflightService({
    arm: sandboxArm,
    flavor,
    minKubernetesVersion: configuration.minKubernetesVersion,
    activeOperations,
  });
  const policy = configuration.policy;
  const webhookStore = new m.WebhookTable(m.tableClient(tables, m.WEBHOOKS_TABLE));
  const cipher = new m.AesSecretCipher(() =>
    configuration.webhooks.secretKey !== undefined
      ? m.parseSecretKey(configuration.webhooks.secretKey)
      : configuration.simulate
        ? m.loadOrCreateKeyFile(join(configuration.dataDir, "webhook-secret.key"))
        : (() => {
            throw new Error("WEBHOOK_SECRET_KEY is not set");
          })(),
  );
  const guard = new m.DnsWebhookTargetGuard({ simulate: configuration.simulate });
  // Outbox rows live next to the rows whose change causes them (any shard of the operations table; the jobs table).
  const outbox = new m.TableEventOutbox([
    { client: m.tableClient(tables, "operations"), prefix: m.OPERATION_OUTBOX_PREFIX },
    { client: m.tableClient(tables, m.JOBS_TABLE), prefix: m.JOB_OUTBOX_PREFIX },
  ]);
  const webhookDispatcher = new m.WebhookDispatcher({
    store: webhookStore,
    outbox,
    cipher,
    sender: new m.HttpWebhookSender({
      guard,
      ca:
        configuration.simulate && configuration.simulatedCaCertPath
          ? readFileSync(configuration.simulatedCaCertPath, "utf8")
          : undefined,
    }),
    log: (event) => log({ component: "webhooks", ...event }),
    observe: (report) => m.serviceMetrics.webhookAttempts(report.delivered, report.failed, report.deadLettered),
  });
  return Object.freeze({
    configuration,
    maxRequestBodyBytes: configuration.maxRequestBodyBytes,
    webhooks: new m.WebhookService({ store: webhookStore, cipher, guard }),
    webhookDispatcher,
    log,
    // The policy may name the team claim and map apps/groups to teams.
    tokenVerifier: new m.TeamResolvingTokenVerifier(
      new m.JwksTokenVerifier({
        ...configuration.auth,
        teamClaim: configuration.policy.teamClaim ?? configuration.auth.teamClaim,
      }),
      configuration.policy,
    ),
    readinessChecks: Object.freeze([{ name: "tableStorage", check: () => m.probeTables(tables) }]),
    policy: configuration.policy,
    auditLog: new m.AuditTable(m.tableClient(tables, m.AUDIT_TABLE)),
    jobSlots,
    containment,
    kubernetes,
    jobs: new m.JobService({
      store: new m.JobTable(m.tableClient(tables, m.JOBS_TABLE)),
      kubernetes,
      slots: jobSlots,
      policy: configuration.policy,
      runtimeClassName: flavor.runtimeClassName,
      log: (event) => log({ component: "jobs", ...event }),
      containment,
    }),
    armClients,
    arm,
    operationKinds,
    operationEngine,
    operations: new m.OperationService(operationEngine),
    clusters: new m.ClusterService({
      policy,
      arm: sandboxArm,
      kubernetes,
      flavor,
      preflight,
      operations: operationEngine,
      minKubernetesVersion: configuration.minKubernetesVersion,
    }),
    sandboxPools: new m.SandboxPoolService({ policy, sandboxArm, arm, flavor, preflight, operations: operationEngine }),
    sandboxFeature: new m.SandboxFeatureService({
      policy,
      arm: sandboxArm,
      flavor,
      activeOperations,
      operations: operationEngine,
      now: Date.now,
    }),
    isolationChecks: new m.IsolationCheckService({
      policy,
      kubernetes,
      runtimeClassName: flavor.runtimeClassName,
      operations: operationEngine,
      unique: () => randomBytes(5).toString("hex"),
      containment,
      slots: jobSlots,
      activeOperations,
    }),
    repeatability: new m.TableRepeatabilityStore(m.tableClient(tables, m.REPEATABILITY_TABLE)),
    sandboxPoolPreflight: preflight,
    sandboxArm,
    activeOperations,
  });
}

/**
 * Builds the process's services (once; concurrent callers share the build).
 * Never throws for a configuration problem: it is recorded, logged once
 * naming each setting, and then answered by {@link services} and
 * {@link configurationProblems}.
 */
export function loadServices(): Promise<void> {
  loading ??= buildServices(process.env).then(
    (s) => {
      built = s;
    },
    async (error: unknown) => {
      const { ConfigurationError } = await import("./config/configuration.js");
      if (!(error instanceof ConfigurationError)) {
        loading = undefined; // not a settings problem: the next request tries again
        throw error;
      }
      configurationProblem = error;
      console.error(error.message);
    },
  );
  return loading;
}

/** The built services, once {@link loadServices} has completed. */
function servicesNow(): Services {
  if (built) return built;
  if (configurationProblem)
    throw new SandboxError("ServiceUnavailable", "The service is misconfigured; see readyz and the host log.", {
      retryAfterSeconds: 30,
    });
  throw new Error("services() called before loadServices() completed");
}

/**
 * The process's services. `services.load()` ({@link loadServices}) builds
 * them; the HTTP pipeline awaits it before its first use of a service.
 * @throws SandboxError `ServiceUnavailable` when the configuration is invalid
 * (the problems are logged once, naming each setting, and shown by `readyz`).
 */
export const services = Object.assign(servicesNow, { load: loadServices });

/** The services, built if needed (timers). */
export async function loadedServices(): Promise<Services> {
  await loadServices();
  return servicesNow();
}

/** The configuration problems found at start (setting names only), once {@link loadServices} has completed. */
export function configurationProblems(): readonly string[] {
  return configurationProblem?.problems.map((p) => p.split(":")[0] ?? p) ?? [];
}
