import { ConfigurationError, loadConfiguration, type Configuration } from "./config/configuration.js";
import { JwksTokenVerifier } from "./adapters/identity/jwksTokenVerifier.js";
import { probeTables, tableClient } from "./adapters/tables/tableClients.js";
import { AUDIT_TABLE, AuditTable } from "./adapters/tables/auditTable.js";
import { JOB_SLOTS_TABLE, JobSlotTable } from "./adapters/tables/jobSlotTable.js";
import type { AuditLog } from "./domain/policy/auditLog.js";
import { JobSlots } from "./domain/policy/jobSlots.js";
import type { SandboxPolicy } from "./domain/policy/policy.js";
import { TeamResolvingTokenVerifier } from "./domain/policy/teamResolution.js";
import type { TokenVerifier } from "./domain/identity/tokenVerifier.js";
import type { ReadinessCheck } from "./domain/service/readiness.js";
import { SandboxError } from "./domain/sandboxError.js";
import { ArmClientFactory } from "./adapters/arm/armClients.js";
import { AzureArmOperations } from "./adapters/arm/azureArmOperations.js";
import { TableOperationStore } from "./adapters/tables/operationTable.js";
import { REPEATABILITY_TABLE, TableRepeatabilityStore } from "./adapters/tables/repeatabilityTable.js";
import type { ArmOperations } from "./domain/operations/armOperations.js";
import { OperationEngine } from "./domain/operations/operationEngine.js";
import { OperationKindRegistry } from "./domain/operations/operationKinds.js";
import type { RepeatabilityStore } from "./domain/operations/repeatability.js";
import { createSandboxPoolKind, deleteSandboxPoolKind } from "./domain/operations/kinds/sandboxPoolKinds.js";
import { registerSandboxFeatureKind } from "./domain/operations/kinds/sandboxFeatureKind.js";
import { createClusterKind, deleteClusterKind, enableSandboxingKind, runtimeClassOrEnableSandboxingSteps } from "./domain/operations/kinds/clusterKinds.js";
import { activeOperationLookup, SandboxPreflightService, type ActiveOperationLookup } from "./domain/sandbox/sandboxPreflight.js";
import type { SandboxArm } from "./domain/sandbox/sandboxArm.js";
import { AzureSandboxArm } from "./adapters/arm/azureSandboxArm.js";
import { ComputeSkus } from "./adapters/arm/computeSkus.js";
import { ArmKubeconfigSource, AzureAccessTokenSource } from "./adapters/arm/armKubeconfigSource.js";
import { KubernetesClientFactory } from "./adapters/kubernetes/kubernetesClusterClient.js";
import { JOBS_TABLE, JobTable } from "./adapters/tables/jobTable.js";
import type { ClusterKubernetesFactory } from "./domain/kubernetes/clusterKubernetes.js";
import { JobService } from "./domain/jobs/jobService.js";
import { isolationCheckKind } from "./domain/operations/kinds/isolationCheckKind.js";
import { sandboxFlavor } from "./domain/sandbox/sandboxFlavor.js";
import { DefaultAzureCredential } from "@azure/identity";

/**
 * The composition root: the one module that builds real clients from the
 * configuration and hands them to the HTTP layer and the domain. Built on
 * first use, once per process (Functions instances keep module state between
 * invocations).
 */
export interface Services {
  readonly configuration: Configuration;
  readonly tokenVerifier: TokenVerifier;
  readonly readinessChecks: readonly ReadinessCheck[];
  /** The team policy (roles × teams × scopes, quotas). */
  readonly policy: SandboxPolicy;
  /** Append-only audit records of mutating and denied requests. */
  readonly auditLog: AuditLog;
  /** The concurrent-jobs quota: `reserveJobSlot` / `releaseJobSlot`. */
  readonly jobSlots: JobSlots;
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
  readonly operations: OperationEngine;
  /** Replay records of `Repeatability-Request-ID` requests. */
  readonly repeatability: RepeatabilityStore;
  /** The sandbox preflight (pool PUTs, cluster creation, enable-sandboxing): ARM reads only. */
  readonly sandboxPoolPreflight: SandboxPreflightService;
  /** Synchronous ARM reads/writes of the sandbox infrastructure (features, providers, clusters, VM sizes). */
  readonly sandboxArm: SandboxArm;
  /** Our running/queued operation on a serial key (a cluster), if any. */
  readonly activeOperations: ActiveOperationLookup;
}

let built: Services | undefined;
let configurationProblem: ConfigurationError | undefined;

function build(): Services {
  const configuration = loadConfiguration(process.env);
  const tables = { connectionString: configuration.tablesConnectionString, allowInsecure: configuration.tablesAllowInsecure };
  const armClients = new ArmClientFactory(configuration);
  // ARM calls end well before a claim expires, so no second instance can advance the same operation meanwhile.
  const arm = new AzureArmOperations(armClients, Math.min(30_000, (configuration.operations.claimSeconds * 1000) / 2));
  const flavor = sandboxFlavor(configuration.flavor);
  const kubernetes = new KubernetesClientFactory({
    kubeconfigs: new ArmKubeconfigSource(armClients, flavor.containerServiceApiVersion),
    // Entra-integrated clusters (exec users): tokens for the AKS server app. Never needed against the emulators.
    ...(configuration.simulate ? {} : { tokens: new AzureAccessTokenSource(new DefaultAzureCredential(configuration.azureAuthorityHost ? { authorityHost: configuration.azureAuthorityHost } : {})) }),
  });
  const jobSlots = new JobSlots(new JobSlotTable(tableClient(tables, JOB_SLOTS_TABLE)), configuration.policy);
  const sandboxArm = new AzureSandboxArm(armClients, new ComputeSkus(armClients));
  const operationStore = new TableOperationStore(tables);
  const activeOperations = activeOperationLookup(operationStore);
  const clusterDeps = { arm: sandboxArm, kubernetes, flavor };
  const operationKinds = new OperationKindRegistry([
    createSandboxPoolKind(runtimeClassOrEnableSandboxingSteps(clusterDeps)),
    deleteSandboxPoolKind(),
    isolationCheckKind({ kubernetes }),
    registerSandboxFeatureKind({ arm: sandboxArm, flavor }),
    createClusterKind(clusterDeps),
    deleteClusterKind(clusterDeps),
    enableSandboxingKind(clusterDeps),
  ]);
  return Object.freeze({
    configuration,
    // The policy may name the team claim and map apps/groups to teams.
    tokenVerifier: new TeamResolvingTokenVerifier(
      new JwksTokenVerifier({ ...configuration.auth, teamClaim: configuration.policy.teamClaim ?? configuration.auth.teamClaim }),
      configuration.policy,
    ),
    readinessChecks: Object.freeze([{ name: "tableStorage", check: () => probeTables(tables) }]),
    policy: configuration.policy,
    auditLog: new AuditTable(tableClient(tables, AUDIT_TABLE)),
    jobSlots,
    kubernetes,
    jobs: new JobService({
      store: new JobTable(tableClient(tables, JOBS_TABLE)),
      kubernetes,
      slots: jobSlots,
      policy: configuration.policy,
      runtimeClassName: flavor.runtimeClassName,
      log: (event) => console.log(JSON.stringify({ component: "jobs", ...event })),
    }),
    armClients,
    arm,
    operationKinds,
    operations: new OperationEngine({
      store: operationStore,
      arm,
      kinds: operationKinds,
      settings: {
        scale: configuration.simulate ? configuration.simTimeScale : 1,
        concurrency: configuration.operations.concurrency,
        armBudgetPerMinute: configuration.operations.armBudgetPerMinute,
        retentionDays: configuration.operations.retentionDays,
        claimMs: configuration.operations.claimSeconds * 1000,
        passMs: configuration.operations.passSeconds * 1000,
      },
      log: (event) => console.log(JSON.stringify({ component: "operations", ...event })),
    }),
    repeatability: new TableRepeatabilityStore(tableClient(tables, REPEATABILITY_TABLE)),
    sandboxPoolPreflight: new SandboxPreflightService({ arm: sandboxArm, flavor, minKubernetesVersion: configuration.minKubernetesVersion, activeOperations }),
    sandboxArm,
    activeOperations,
  });
}

/**
 * The process's services.
 * @throws SandboxError `ServiceUnavailable` when the configuration is invalid
 * (the problems are logged once, naming each setting, and shown by `readyz`).
 */
export function services(): Services {
  if (built) return built;
  if (configurationProblem) throw new SandboxError("ServiceUnavailable", "The service is misconfigured; see readyz and the host log.", { retryAfterSeconds: 30 });
  try {
    built = build();
    return built;
  } catch (error) {
    if (error instanceof ConfigurationError) {
      configurationProblem = error;
      console.error(error.message);
      throw new SandboxError("ServiceUnavailable", "The service is misconfigured; see readyz and the host log.", { retryAfterSeconds: 30 });
    }
    throw error;
  }
}

/** The configuration problems found at start, if any (setting names only). */
export function configurationProblems(): readonly string[] {
  if (!built && !configurationProblem) {
    try {
      services();
    } catch {
      // recorded below
    }
  }
  return configurationProblem?.problems.map((p) => p.split(":")[0] ?? p) ?? [];
}
