import type { Principal } from "../../identity/principal.js";
import type { PreflightReport } from "../../sandbox/poolPreflight.js";
import type { SandboxFlavorNames } from "../../sandbox/sandboxFlavor.js";
import type { AgentPoolRef, AgentPoolSpec, AgentPoolState } from "../armOperations.js";
import type { OperationKindDefinition } from "../operationKinds.js";
import { lroStep, type StepContext, type StepDefinition } from "../steps.js";
import { canonicalArmState } from "../../sandbox/armState.js";

/** Input of `CreateSandboxPool` / `DeleteSandboxPool` operations (stored in the row). */
export interface SandboxPoolInput {
  pool: AgentPoolRef;
  /** Absent for deletes. */
  spec?: AgentPoolSpec;
  /** AKS api-version of the flavour. */
  apiVersion: string;
  /** Per-node capacity of the VM size (from the preflight's SKU lookup), added to the result's pool view. */
  capacity?: { vCpuPerNode: number; memoryGiBPerNode: number; defaultSandboxesPerNode: number };
}

/** The pool view of the API (capacity is added by the sandbox-infrastructure layer). */
export interface SandboxPoolView {
  name: string;
  vmSize: string | undefined;
  nodeCount: number | undefined;
  workloadRuntime: string | undefined;
  osSku: string | undefined;
  provisioningState: string;
}

/** A pool view from ARM's agent pool (SDK model, flattened). */
export function sandboxPoolView(
  name: string,
  pool: Record<string, unknown> | AgentPoolState | undefined,
): SandboxPoolView {
  const p: Record<string, unknown> =
    (pool && "resource" in pool ? (pool.resource as Record<string, unknown>) : pool) ?? {};
  return {
    name,
    vmSize: typeof p.vmSize === "string" ? p.vmSize : undefined,
    nodeCount: typeof p.count === "number" ? p.count : undefined,
    workloadRuntime: typeof p.workloadRuntime === "string" ? canonicalArmState(p.workloadRuntime) : undefined,
    osSku: typeof p.osSKU === "string" ? canonicalArmState(p.osSKU) : undefined,
    provisioningState: typeof p.provisioningState === "string" ? canonicalArmState(p.provisioningState) : "Succeeded",
  };
}

/** True when ARM's pool already is what `spec` asks for (so a PUT would change nothing). */
export function poolMatches(state: AgentPoolState, spec: AgentPoolSpec): boolean {
  return (
    state.vmSize?.toLowerCase() === spec.vmSize.toLowerCase() &&
    state.count === spec.count &&
    state.workloadRuntime === spec.workloadRuntime &&
    state.osSKU === spec.osSKU
  );
}

const BUSY_STATES = ["Creating", "Updating", "Scaling", "Upgrading", "Deleting", "Starting", "Stopping"];

const input = (context: StepContext<SandboxPoolInput>): Readonly<SandboxPoolInput> => context.input;

/**
 * Step `CreateAgentPool`: agent pool PUT (workloadRuntime, osSKU, vmSize,
 * count, mode User) as an LRO. Its probe adopts a pool an earlier crashed
 * attempt already created; cancel aborts it with AKS operation-abort.
 * Typical duration 180 s (first poll at 162 s, then every 10 s).
 */
export function agentPoolPutStep(name = "CreateAgentPool"): StepDefinition<SandboxPoolInput> {
  return lroStep<SandboxPoolInput>({
    name,
    typicalSeconds: 180,
    request: (context) => {
      const i = input(context);
      return { kind: "agentPoolPut", pool: i.pool, spec: i.spec!, apiVersion: i.apiVersion };
    },
    probe: async (context) => {
      const i = input(context);
      context.countArmCall();
      const state = await context.arm.getAgentPool(i.pool, i.apiVersion, context.call);
      if (!state) return { type: "start" };
      if (BUSY_STATES.includes(state.provisioningState)) return { type: "inProgress" };
      if (state.provisioningState === "Succeeded" && poolMatches(state, i.spec!))
        return { type: "done", result: state.resource };
      return { type: "start" };
    },
    abort: async (context) => {
      const i = input(context);
      context.countArmCall();
      await context.arm.abortAgentPoolOperation(i.pool, i.apiVersion, context.call);
    },
    onSucceeded: (result, context) => {
      const view = sandboxPoolView(input(context).pool.poolName, result as Record<string, unknown> | undefined);
      return { data: { pool: view }, result: view };
    },
  });
}

/** Step `DeleteAgentPool`: agent pool DELETE as an LRO (typical 150 s); its probe treats a missing pool as done. */
export function agentPoolDeleteStep(name = "DeleteAgentPool"): StepDefinition<SandboxPoolInput> {
  return lroStep<SandboxPoolInput>({
    name,
    typicalSeconds: 150,
    request: (context) => {
      const i = input(context);
      return { kind: "agentPoolDelete", pool: i.pool, apiVersion: i.apiVersion };
    },
    probe: async (context) => {
      const i = input(context);
      context.countArmCall();
      const state = await context.arm.getAgentPool(i.pool, i.apiVersion, context.call);
      if (!state) return { type: "done" };
      if (state.provisioningState === "Deleting") return { type: "inProgress" };
      return { type: "start" };
    },
    abort: async (context) => {
      const i = input(context);
      context.countArmCall();
      await context.arm.abortAgentPoolOperation(i.pool, i.apiVersion, context.call);
    },
    onSucceeded: (_result, context) => ({
      data: { deleted: input(context).pool.poolName },
      result: { name: input(context).pool.poolName, deleted: true },
    }),
  });
}

/**
 * `CreateSandboxPool`: the agent pool PUT, then `after` (the composition
 * appends `WaitForRuntimeClass`, which confirms the flavour's RuntimeClass
 * through the cluster's Kubernetes API). Deadline 1 h. The result is the
 * pool view with the capacity recorded in the input.
 */
export function createSandboxPoolKind(
  after: readonly StepDefinition<SandboxPoolInput>[] = [],
): OperationKindDefinition<SandboxPoolInput> {
  return {
    kind: "CreateSandboxPool",
    steps: [agentPoolPutStep(), ...after],
    deadlineSeconds: 3600,
    result: (data, input) => {
      const capacity = (input as Partial<SandboxPoolInput>).capacity;
      return data.pool && typeof data.pool === "object"
        ? { ...(data.pool as SandboxPoolView), ...(capacity ? { capacity } : {}) }
        : data.pool;
    },
  };
}

/** `DeleteSandboxPool`: the agent pool DELETE. Deadline 1 h. */
export function deleteSandboxPoolKind(): OperationKindDefinition<SandboxPoolInput> {
  return { kind: "DeleteSandboxPool", steps: [agentPoolDeleteStep()], deadlineSeconds: 3600 };
}

/** The request body of `putSandboxPool` (docs/api-conventions.md, Sandbox pools). */
export interface SandboxPoolBody {
  vmSize: string;
  nodeCount: number;
  maxPods?: number;
  labels?: Record<string, string>;
  taints?: string[];
  /** Only `AzureLinux` can run Pod Sandboxing; anything else fails the preflight (`UnsupportedOsSku`). The service always sends AzureLinux. */
  osSku?: string;
}

// One definition of the preflight report: the pure preflight's.
export type { PreflightCheck, PreflightReport } from "../../sandbox/poolPreflight.js";

/** What a preflight sees. */
export interface SandboxPoolPreflightRequest {
  pool: AgentPoolRef;
  body: SandboxPoolBody;
  spec: AgentPoolSpec;
  flavor: SandboxFlavorNames;
  principal: Principal;
  correlationId: string;
}

/**
 * Port: checks a sandbox pool request before any ARM write (cluster state,
 * Kubernetes version, VM size, feature registration…).
 * It must run every check (dry runs show all of them) and must not write.
 * Wired in `src/composition.ts` (`sandboxPoolPreflight`).
 */
export interface SandboxPoolPreflight {
  check(request: SandboxPoolPreflightRequest): Promise<PreflightReport>;
}
