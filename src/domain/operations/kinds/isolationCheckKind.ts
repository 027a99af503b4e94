/**
 * The `IsolationCheck` operation: proves that a cluster's sandbox really
 * isolates. It runs `uname -r` in a sandboxed pod (the flavour's RuntimeClass)
 * and in a trusted pod pinned to the same sandbox node, then compares: a Kata
 * VM reports its guest kernel, a trusted pod the node's kernel.
 */
import type { Principal } from "../../identity/principal.js";
import { buildJobManifest, JOB_ID_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TEAM_LABEL } from "../../jobs/jobManifest.js";
import { clusterApiId } from "../../jobs/jobRecord.js";
import { jobStateFrom } from "../../jobs/jobStatus.js";
import type { ClusterKubernetes, ClusterKubernetesFactory, ClusterRef } from "../../kubernetes/clusterKubernetes.js";
import { authorizeClusterAccess } from "../../policy/authorization.js";
import type { SandboxPolicy } from "../../policy/policy.js";
import { SandboxError, isSandboxError } from "../../sandboxError.js";
import type { SubmitRequest } from "../operationEngine.js";
import type { OperationKindDefinition } from "../operationKinds.js";
import { actionStep, type StepContext, type StepDefinition, type StepOutcome } from "../steps.js";

/** The probe image (the Pod Sandboxing docs' example image). */
export const PROBE_IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
/** Namespace of probes started by a caller without a team (Admin). */
export const SYSTEM_PROBE_NAMESPACE = "aks-pod-sandbox-system";
/**
 * Probe pods' deadline and TTL, seconds. The Cleanup step deletes the probes;
 * the TTL only removes them if the operation dies, so it is generous: a short
 * one can delete a finished probe before the next tick reads its output.
 */
const PROBE_DEADLINE_SECONDS = 300;
const PROBE_TTL_SECONDS = 3600;
/** Service seconds between looks at a running probe. */
const PROBE_POLL_SECONDS = 2;

/** Input of an `IsolationCheck` operation (stored in the row; no secrets). */
export interface IsolationCheckInput {
  cluster: ClusterRef;
  namespace: string;
  team: string;
  runtimeClassName: string;
  /** DNS-safe stem of the probe jobs' names. */
  probeStem: string;
}

/** What one probe found. */
export interface ProbeFinding {
  kernel: string;
  /** The RuntimeClass the pod really ran with (from the pod spec). */
  runtimeClassName: string | undefined;
  node: string | undefined;
  /** True when that node carries the sandbox RuntimeClass's node labels. */
  sandboxNode: boolean;
}

/** The operation's `result`. */
export interface IsolationCheckResult {
  isolated: boolean;
  sandboxKernel: string;
  nodeKernel: string;
  runtimeClassName: string;
  node: string | undefined;
  checkedAt: string;
  /** Why `isolated` is false, when it is. */
  reason?: string;
}

type Which = "sandboxed" | "trusted";

const input = (context: StepContext): IsolationCheckInput => context.input as unknown as IsolationCheckInput;

export function probeJobName(stem: string, which: Which): string {
  return `${stem}-${which === "sandboxed" ? "sbx" : "host"}`;
}

function notReady(cluster: ClusterRef, runtimeClassName: string): SandboxError {
  return new SandboxError(
    "SandboxNotReady",
    `Cluster "${cluster.clusterName}" has no RuntimeClass "${runtimeClassName}": nothing can run sandboxed there. Create a sandbox pool first (PUT …/clusters/${cluster.clusterName}/sandbox-pools/{poolName}).`,
    { target: "clusterName" },
  );
}

async function deleteProbe(k8s: ClusterKubernetes, i: IsolationCheckInput, which: Which): Promise<void> {
  await k8s.deleteJob(i.namespace, probeJobName(i.probeStem, which), "Background");
}

async function sandboxNodeNames(k8s: ClusterKubernetes, runtimeClassName: string): Promise<string[]> {
  const rc = await k8s.getRuntimeClass(runtimeClassName);
  if (!rc) return [];
  const selector = Object.entries(rc.nodeSelector).map(([k, v]) => `${k}=${v}`).join(",");
  if (!selector) return [];
  return (await k8s.listNodes(selector)).map((n) => n.name);
}

/**
 * A probe step: creates the probe Job (once; a crash after the create adopts
 * it), waits for it to finish, reads `uname -r` and what the pod ran with,
 * deletes the Job. A failed probe is deleted before the operation fails.
 */
function probeStep(name: string, which: Which, kubernetes: ClusterKubernetesFactory): StepDefinition {
  return {
    name,
    started: (state) => state.created === true,
    async advance(context): Promise<StepOutcome> {
      const i = input(context);
      const k8s = await kubernetes.forCluster(i.cluster);
      const jobName = probeJobName(i.probeStem, which);
      const probeId = `${i.probeStem}-${which}`;
      if (context.state.created !== true) {
        if (which === "sandboxed" && !(await k8s.getRuntimeClass(i.runtimeClassName))) {
          const e = notReady(i.cluster, i.runtimeClassName);
          return { type: "fail", error: { code: e.code, message: e.message, target: "clusterName" } };
        }
        const sandboxed = context.data.sandboxed as ProbeFinding | undefined;
        // Recorded before the create: a crash right after it adopts the Job instead of failing on the name.
        await context.checkpoint({ created: true });
        await k8s.ensureNamespace(i.namespace, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TEAM_LABEL]: i.team });
        try {
          await k8s.createJob(
            i.namespace,
            buildJobManifest({
              name: jobName,
              namespace: i.namespace,
              image: PROBE_IMAGE,
              command: ["uname", "-r"],
              runtimeClassName: which === "sandboxed" ? i.runtimeClassName : undefined,
              // The trusted probe runs on the sandboxed probe's node: same hardware, host kernel.
              ...(which === "trusted" && sandboxed?.node ? { nodeSelector: { "kubernetes.io/hostname": sandboxed.node } } : {}),
              timeoutSeconds: PROBE_DEADLINE_SECONDS,
              ttlSecondsAfterFinished: PROBE_TTL_SECONDS,
              backoffLimit: 0,
              runAsNonRoot: true,
              team: i.team,
              jobId: probeId,
              requestId: context.operation.correlationId,
            }),
          );
        } catch (error) {
          if (!(isSandboxError(error) && error.code === "Conflict")) throw error;
        }
        return { type: "wait", state: { created: true }, afterSeconds: PROBE_POLL_SECONDS, message: `Started the ${which} probe ${jobName}` };
      }

      const job = await k8s.getJob(i.namespace, jobName);
      if (!job) return { type: "fail", error: { code: "UpstreamFailed", message: `The ${which} probe job ${jobName} disappeared from the cluster before it finished.` } };
      const pods = await k8s.listPods(i.namespace, `${JOB_ID_LABEL}=${probeId}`);
      const state = jobStateFrom(job, pods, [])!;
      if (state.status === "Pending" || state.status === "Running") {
        return { type: "wait", state: { created: true }, afterSeconds: PROBE_POLL_SECONDS, message: `The ${which} probe is ${state.status}${state.reason ? ` (${state.reason})` : ""}` };
      }
      if (state.status !== "Succeeded") {
        await deleteProbe(k8s, i, which);
        return { type: "fail", error: { code: "UpstreamFailed", message: `The ${which} probe ended ${state.status}${state.reason ? ` (${state.reason})` : ""}${state.message ? `: ${state.message}` : ""}.` } };
      }
      const pod = pods[0];
      const podName = pod?.metadata?.name ?? "";
      const kernel = (await k8s.readPodLog(i.namespace, podName, { tailLines: 5, limitBytes: 4096 })).trim().split("\n").pop()?.trim() ?? "";
      const spec = (pod?.spec ?? {}) as { runtimeClassName?: string; nodeName?: string };
      const sandboxNodes = await sandboxNodeNames(k8s, i.runtimeClassName);
      const finding: ProbeFinding = {
        kernel,
        runtimeClassName: spec.runtimeClassName,
        node: spec.nodeName,
        sandboxNode: spec.nodeName !== undefined && sandboxNodes.includes(spec.nodeName),
      };
      await deleteProbe(k8s, i, which);
      return { type: "done", data: { [which]: finding } };
    },
  };
}

/**
 * The verdict: isolated only when the kernels differ, the sandboxed pod ran
 * with the sandbox RuntimeClass, and on a sandbox node. Pure.
 */
export function isolationVerdict(sandboxed: ProbeFinding, trusted: ProbeFinding, runtimeClassName: string, checkedAt: string): IsolationCheckResult {
  const reasons: string[] = [];
  if (!sandboxed.kernel || !trusted.kernel) reasons.push("a probe printed no kernel version");
  else if (sandboxed.kernel === trusted.kernel) reasons.push(`both pods report kernel ${sandboxed.kernel}: the sandboxed pod shares the node's kernel`);
  if (sandboxed.runtimeClassName !== runtimeClassName) reasons.push(`the sandboxed pod ran with RuntimeClass "${sandboxed.runtimeClassName ?? "none"}", not "${runtimeClassName}"`);
  if (!sandboxed.sandboxNode) reasons.push(`the sandboxed pod ran on ${sandboxed.node ?? "no node"}, which is not a sandbox node`);
  const result: IsolationCheckResult = {
    isolated: reasons.length === 0,
    sandboxKernel: sandboxed.kernel,
    nodeKernel: trusted.kernel,
    runtimeClassName,
    node: sandboxed.node,
    checkedAt,
  };
  if (reasons.length > 0) result.reason = `${reasons.join("; ")}.`;
  return result;
}

/**
 * `IsolationCheck`: steps `RunSandboxedProbe`, `RunTrustedProbe`, `Compare`,
 * `Cleanup` (deletes both probe Jobs; each probe also deletes its own as soon
 * as it is read). Deadline 15 minutes.
 */
export function isolationCheckKind(deps: { kubernetes: ClusterKubernetesFactory; now?: () => Date }): OperationKindDefinition {
  const now = deps.now ?? (() => new Date());
  return {
    kind: "IsolationCheck",
    deadlineSeconds: 900,
    steps: [
      probeStep("RunSandboxedProbe", "sandboxed", deps.kubernetes),
      probeStep("RunTrustedProbe", "trusted", deps.kubernetes),
      actionStep("Compare", async (context) => {
        const i = input(context);
        const verdict = isolationVerdict(context.data.sandboxed as ProbeFinding, context.data.trusted as ProbeFinding, i.runtimeClassName, now().toISOString());
        return { data: { verdict }, result: verdict };
      }),
      actionStep("Cleanup", async (context) => {
        const i = input(context);
        const k8s = await deps.kubernetes.forCluster(i.cluster);
        await deleteProbe(k8s, i, "sandboxed");
        await deleteProbe(k8s, i, "trusted");
      }),
    ],
    result: (data) => data.verdict,
  };
}

/**
 * What `startIsolationCheck` does before the operation exists: the cluster
 * check (the caller's team must cover the cluster) and the RuntimeClass check,
 * so a cluster without sandboxing answers `SandboxNotReady` before any pod is
 * created. Returns the engine's submit request.
 * @throws SandboxError `NotFound` (cluster invisible or missing), `SandboxNotReady`.
 */
export async function prepareIsolationCheck(request: {
  principal: Principal;
  policy: SandboxPolicy;
  kubernetes: ClusterKubernetesFactory;
  runtimeClassName: string;
  cluster: ClusterRef;
  requestId: string;
  /** DNS-safe unique suffix (lower-case alphanumerics). */
  unique: string;
}): Promise<SubmitRequest> {
  const access = authorizeClusterAccess(request.principal, request.policy, request.cluster, "change");
  const k8s = await request.kubernetes.forCluster(request.cluster);
  if (!(await k8s.getRuntimeClass(request.runtimeClassName))) throw notReady(request.cluster, request.runtimeClassName);
  const isolationInput: IsolationCheckInput = {
    cluster: { ...request.cluster },
    namespace: access.namespace ?? SYSTEM_PROBE_NAMESPACE,
    team: access.team?.name ?? "system",
    runtimeClassName: request.runtimeClassName,
    probeStem: `isolation-probe-${request.unique}`,
  };
  return {
    kind: "IsolationCheck",
    target: `${clusterApiId(request.cluster)}/isolation-checks`,
    subscriptionId: request.cluster.subscriptionId,
    input: isolationInput as unknown as Record<string, unknown>,
    createdBy: request.principal.id,
    team: request.principal.team,
    correlationId: request.requestId,
  };
}
