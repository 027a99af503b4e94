// One file on purpose (~580 lines): one operation kind — its input, the probe and peer steps, the verdict
// and the preflight — read top to bottom; the step machinery it plugs into lives in the engine.
/**
 * The `IsolationCheck` operation: proves that a cluster's sandbox really
 * isolates — kernel, network and credentials. It starts a peer pod in
 * another namespace (the target of the cross-namespace probe), runs a
 * sandboxed probe pod (the flavour's RuntimeClass, in the team's contained
 * namespace) that prints `uname -r` and then tries, from inside the
 * sandbox, the Instance Metadata Service, the wireserver, the API server,
 * the peer pod and the internet, and looks for a mounted service-account
 * token; a trusted pod pinned to the same node prints the node's kernel.
 * The verdict lists every probe with its evidence: `ISOLATED` only if all
 * pass.
 */
import type { Principal } from "../../identity/principal.js";
import {
  buildJobManifest,
  JOB_ID_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  TEAM_LABEL,
} from "../../jobs/jobManifest.js";
import { clusterApiId } from "../../jobs/jobRecord.js";
import { jobStateFrom } from "../../jobs/jobStatus.js";
import type { ClusterKubernetes, ClusterKubernetesFactory, ClusterRef } from "../../kubernetes/clusterKubernetes.js";
import { authorizeClusterAccess } from "../../policy/authorization.js";
import type { SandboxPolicy } from "../../policy/policy.js";
import { SandboxError, isSandboxError } from "../../sandboxError.js";
import { JOB_SERVICE_ACCOUNT, PSA_ENFORCE } from "../../containment/containmentObjects.js";
import type { NamespaceContainment } from "../../containment/namespaceContainment.js";
import { CLOSED_EGRESS, DEFAULT_QUOTAS, type TeamPolicy } from "../../policy/policy.js";
import type { JobSlotQuota } from "../../jobs/jobService.js";
import type { ActiveOperationLookup } from "../../sandbox/sandboxPreflight.js";
import type { SubmitRequest } from "../operationEngine.js";
import type { OperationKindDefinition } from "../operationKinds.js";
import { actionStep, type StepContext, type StepDefinition, type StepOutcome } from "../steps.js";

/** The probe image (the Pod Sandboxing docs' example image). */
export const PROBE_IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
/** Namespace of probes started by a caller without a team (Admin). */
export const SYSTEM_PROBE_NAMESPACE = "aks-pod-sandbox-system";
/** Namespace of the peer pod the sandboxed probe must not reach ("another team's pod"). */
export const PEER_PROBE_NAMESPACE = "aks-pod-sandbox-peer";
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
  /** The team's policy opens the internet (the internet probe then expects it reachable). */
  internetAllowed?: boolean;
  /** The job slot the check holds (released by Cleanup, or when the check fails, times out or is canceled). */
  slotId?: string;
}

/** One probe of the verdict. */
export interface IsolationProbe {
  name:
    | "kernel"
    | "imds"
    | "wireserver"
    | "apiServer"
    | "otherNamespacePod"
    | "internet"
    | "serviceAccountToken"
    | "podSecurity";
  passed: boolean;
  /** What passing means here (`unreachable`, `reachable`, `no token`, …). */
  expected: string;
  observed: string;
  /** What the probe printed or read (never a credential). */
  evidence: string;
}

/** What one probe found. */
export interface ProbeFinding {
  kernel: string;
  /** The RuntimeClass the pod really ran with (from the pod spec). */
  runtimeClassName: string | undefined;
  node: string | undefined;
  /** True when that node carries the sandbox RuntimeClass's node labels. */
  sandboxNode: boolean;
  /** The sandboxed probe's network and credential findings: probe name → printed text. */
  sections?: Record<string, string>;
}

/** The operation's `result`. */
export interface IsolationCheckResult {
  isolated: boolean;
  /** `ISOLATED` only if every probe passed. */
  verdict: "ISOLATED" | "NOT_ISOLATED";
  probes: IsolationProbe[];
  sandboxKernel: string;
  nodeKernel: string;
  runtimeClassName: string;
  node: string | undefined;
  checkedAt: string;
  /** Why `isolated` is false, when it is: the failed probes. */
  reason?: string;
}

/** The network and credential probes the sandboxed pod runs (shell run by /bin/sh -c). */
export function sandboxedProbeScript(peerIp: string | undefined): string {
  return [
    "uname -r",
    "echo '#probe imds'; curl -sS -m 5 -H Metadata:true 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'",
    "echo '#probe wireserver'; curl -sS -m 5 'http://168.63.129.16/?comp=versions'",
    "echo '#probe apiServer'; curl -sS -k -m 5 https://kubernetes.default.svc/version",
    `echo '#probe otherNamespacePod'; curl -sS -m 5 http://${peerIp ?? "10.244.0.1"}:8080/`,
    "echo '#probe internet'; curl -sS -m 5 http://example.com/",
    "echo '#probe serviceAccountToken'; ls /var/run/secrets/kubernetes.io/serviceaccount",
    "echo '#end'",
  ].join("\n");
}

/** Splits the sandboxed probe's log: the kernel (first line) and each `#probe <name>` section. */
export function parseProbeLog(log: string): { kernel: string; sections: Record<string, string> } {
  const lines = log.split("\n");
  const sections: Record<string, string> = {};
  let current: string | undefined;
  for (const line of lines.slice(1)) {
    const m = /^#probe (\w+)$/.exec(line.trim());
    if (m) current = m[1];
    else if (line.trim() === "#end") current = undefined;
    else if (current) sections[current] = `${sections[current] ? `${sections[current]}\n` : ""}${line}`.slice(0, 500);
  }
  return { kernel: (lines[0] ?? "").trim(), sections };
}

/** `blocked` when the connection timed out or the name did not resolve (curl 28 / 6), else `reachable` (refused counts: the packet arrived). */
function reachability(evidence: string | undefined): "blocked" | "reachable" | "not run" {
  if (evidence === undefined) return "not run";
  return /curl: \((28|6)\)/.test(evidence) ? "blocked" : "reachable";
}

type Which = "sandboxed" | "trusted";

/** The probes' team when an Admin without a team starts a check: built-in quotas, closed egress. */
const SYSTEM_TEAM: TeamPolicy = Object.freeze({
  name: "system",
  scopes: [],
  namespace: SYSTEM_PROBE_NAMESPACE,
  allowedRegistries: [],
  quotas: DEFAULT_QUOTAS,
  allowRunAsRoot: false,
  egress: CLOSED_EGRESS,
  allowUnenforcedNetworking: false,
});

const input = (context: StepContext<IsolationCheckInput>): Readonly<IsolationCheckInput> => context.input;

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
  const selector = Object.entries(rc.nodeSelector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  if (!selector) return [];
  return (await k8s.listNodes(selector)).map((n) => n.name);
}

/**
 * A probe step: creates the probe Job (once; a crash after the create adopts
 * it), waits for it to finish, reads `uname -r` and what the pod ran with,
 * deletes the Job. A failed probe is deleted before the operation fails.
 */
function probeStep(
  name: string,
  which: Which,
  kubernetes: ClusterKubernetesFactory,
): StepDefinition<IsolationCheckInput> {
  return {
    name,
    started: (state) => state.created === true,
    // A cancel stops the check at once: the kind's onEnded deletes the probes and gives the slot back.
    abort: async () => undefined,
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
              command:
                which === "sandboxed"
                  ? ["/bin/sh", "-c", sandboxedProbeScript(context.data.peerIp as string | undefined)]
                  : ["uname", "-r"],
              runtimeClassName: which === "sandboxed" ? i.runtimeClassName : undefined,
              serviceAccountName: JOB_SERVICE_ACCOUNT,
              // The trusted probe runs on the sandboxed probe's node: same hardware, host kernel.
              ...(which === "trusted" && sandboxed?.node
                ? { nodeSelector: { "kubernetes.io/hostname": sandboxed.node } }
                : {}),
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
        return {
          type: "wait",
          state: { created: true },
          afterSeconds: PROBE_POLL_SECONDS,
          message: `Started the ${which} probe ${jobName}`,
        };
      }

      const job = await k8s.getJob(i.namespace, jobName);
      if (!job)
        return {
          type: "fail",
          error: {
            code: "UpstreamFailed",
            message: `The ${which} probe job ${jobName} disappeared from the cluster before it finished.`,
          },
        };
      const pods = await k8s.listPods(i.namespace, `${JOB_ID_LABEL}=${probeId}`);
      const state = jobStateFrom(job, pods, [])!;
      if (state.status === "Pending" || state.status === "Running") {
        return {
          type: "wait",
          state: { created: true },
          afterSeconds: PROBE_POLL_SECONDS,
          message: `The ${which} probe is ${state.status}${state.reason ? ` (${state.reason})` : ""}`,
        };
      }
      if (state.status !== "Succeeded") {
        // The operation fails: onEnded deletes the probes and the peer and gives the slot back.
        return {
          type: "fail",
          error: {
            code: "UpstreamFailed",
            message: `The ${which} probe ended ${state.status}${state.reason ? ` (${state.reason})` : ""}${state.message ? `: ${state.message}` : ""}.`,
          },
        };
      }
      const pod = pods[0];
      const podName = pod?.metadata?.name ?? "";
      const log = await k8s.readPodLog(i.namespace, podName, { limitBytes: 64 * 1024 });
      const parsed = parseProbeLog(log);
      const kernel = parsed.kernel;
      const spec = (pod?.spec ?? {}) as { runtimeClassName?: string; nodeName?: string };
      const sandboxNodes = await sandboxNodeNames(k8s, i.runtimeClassName);
      const finding: ProbeFinding = {
        kernel,
        runtimeClassName: spec.runtimeClassName,
        node: spec.nodeName,
        sandboxNode: spec.nodeName !== undefined && sandboxNodes.includes(spec.nodeName),
        ...(which === "sandboxed" ? { sections: parsed.sections } : {}),
      };
      await deleteProbe(k8s, i, which);
      return { type: "done", data: { [which]: finding } };
    },
  };
}

/**
 * The verdict: every probe with its evidence. The kernel probe passes when
 * the kernels differ, the sandboxed pod ran with the sandbox RuntimeClass and
 * on a sandbox node; the network probes when the destination was
 * unreachable (the internet one: as the team's policy says); the token
 * probe when no service-account token was mounted; the Pod Security probe
 * when the namespace enforces `restricted`. Pure.
 */
export function isolationVerdict(
  sandboxed: ProbeFinding,
  trusted: ProbeFinding,
  runtimeClassName: string,
  checkedAt: string,
  context: { internetAllowed?: boolean; podSecurity?: string | undefined; namespace?: string } = {},
): IsolationCheckResult {
  const kernelReasons: string[] = [];
  if (!sandboxed.kernel || !trusted.kernel) kernelReasons.push("a probe printed no kernel version");
  else if (sandboxed.kernel === trusted.kernel)
    kernelReasons.push(`both pods report kernel ${sandboxed.kernel}: the sandboxed pod shares the node's kernel`);
  if (sandboxed.runtimeClassName !== runtimeClassName)
    kernelReasons.push(
      `the sandboxed pod ran with RuntimeClass "${sandboxed.runtimeClassName ?? "none"}", not "${runtimeClassName}"`,
    );
  if (!sandboxed.sandboxNode)
    kernelReasons.push(`the sandboxed pod ran on ${sandboxed.node ?? "no node"}, which is not a sandbox node`);
  const probes: IsolationProbe[] = [
    {
      name: "kernel",
      passed: kernelReasons.length === 0,
      expected: "own guest kernel, sandbox RuntimeClass, sandbox node",
      observed: kernelReasons.length === 0 ? "isolated kernel" : kernelReasons.join("; "),
      evidence: `sandboxed pod: ${sandboxed.kernel || "?"} on ${sandboxed.node ?? "?"}; node: ${trusted.kernel || "?"}`,
    },
  ];
  const sections = sandboxed.sections;
  if (sections) {
    const network = (name: IsolationProbe["name"], expected: "blocked" | "reachable", what: string) => {
      const observed = reachability(sections[name]);
      probes.push({
        name,
        passed: observed === expected,
        expected: `${what} ${expected === "blocked" ? "unreachable" : "reachable"}`,
        observed,
        evidence: (sections[name] ?? "").trim() || "(no output)",
      });
    };
    network("imds", "blocked", "Instance Metadata Service 169.254.169.254");
    network("wireserver", "blocked", "wireserver 168.63.129.16");
    network("apiServer", "blocked", "API server kubernetes.default.svc");
    network("otherNamespacePod", "blocked", `a pod in namespace ${PEER_PROBE_NAMESPACE}`);
    network(
      "internet",
      context.internetAllowed ? "reachable" : "blocked",
      "the internet (example.com), per the team's egress policy,",
    );
    const token = (sections.serviceAccountToken ?? "").trim();
    const noToken = token === "" || /No such file or directory/.test(token);
    probes.push({
      name: "serviceAccountToken",
      passed: noToken,
      expected: "no service-account token mounted",
      observed: noToken ? "no token" : "a token is mounted",
      evidence: noToken ? token || "(nothing mounted)" : "/var/run/secrets/kubernetes.io/serviceaccount lists a token",
    });
  }
  if (context.podSecurity !== undefined || context.namespace !== undefined) {
    probes.push({
      name: "podSecurity",
      passed: context.podSecurity === "restricted",
      expected: "namespace enforces Pod Security restricted",
      observed: context.podSecurity ?? "not enforced",
      evidence: `namespace ${context.namespace ?? "?"}: pod-security.kubernetes.io/enforce=${context.podSecurity ?? "(unset)"}`,
    });
  }
  const failed = probes.filter((p) => !p.passed);
  const result: IsolationCheckResult = {
    isolated: failed.length === 0,
    verdict: failed.length === 0 ? "ISOLATED" : "NOT_ISOLATED",
    probes,
    sandboxKernel: sandboxed.kernel,
    nodeKernel: trusted.kernel,
    runtimeClassName,
    node: sandboxed.node,
    checkedAt,
  };
  if (failed.length > 0)
    result.reason = `${failed.map((p) => `${p.name}: ${p.observed} (expected ${p.expected})`).join("; ")}.`;
  return result;
}

const PEER_JOB_SUFFIX = "peer";

/**
 * The peer step: a trusted pod sleeping in {@link PEER_PROBE_NAMESPACE}
 * (another namespace, no NetworkPolicy of its own: only the sandboxed
 * namespace's egress policy can stop the probe). Done once it has an IP.
 */
function peerStep(kubernetes: ClusterKubernetesFactory): StepDefinition<IsolationCheckInput> {
  return {
    name: "StartPeerPod",
    started: (state) => state.created === true,
    abort: async () => undefined,
    async advance(context): Promise<StepOutcome> {
      const i = input(context);
      const k8s = await kubernetes.forCluster(i.cluster);
      const jobName = `${i.probeStem}-${PEER_JOB_SUFFIX}`;
      if (context.state.created !== true) {
        await context.checkpoint({ created: true });
        await k8s.applyObject({
          apiVersion: "v1",
          kind: "Namespace",
          metadata: {
            name: PEER_PROBE_NAMESPACE,
            labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PSA_ENFORCE]: "restricted" },
          },
        });
        try {
          await k8s.createJob(
            PEER_PROBE_NAMESPACE,
            buildJobManifest({
              name: jobName,
              namespace: PEER_PROBE_NAMESPACE,
              image: PROBE_IMAGE,
              command: ["sleep", String(PROBE_DEADLINE_SECONDS)],
              runtimeClassName: undefined,
              limits: { cpu: "100m", memory: "64Mi" },
              timeoutSeconds: PROBE_DEADLINE_SECONDS,
              ttlSecondsAfterFinished: PROBE_TTL_SECONDS,
              backoffLimit: 0,
              runAsNonRoot: true,
              team: i.team,
              jobId: `${i.probeStem}-${PEER_JOB_SUFFIX}`,
              requestId: context.operation.correlationId,
            }),
          );
        } catch (error) {
          if (!(isSandboxError(error) && error.code === "Conflict")) throw error;
        }
        return {
          type: "wait",
          state: { created: true },
          afterSeconds: PROBE_POLL_SECONDS,
          message: `Started the peer pod ${jobName}`,
        };
      }
      const pods = await k8s.listPods(PEER_PROBE_NAMESPACE, `${JOB_ID_LABEL}=${i.probeStem}-${PEER_JOB_SUFFIX}`);
      const ip = (pods[0]?.status as { podIP?: string } | undefined)?.podIP;
      if (!ip)
        return {
          type: "wait",
          state: { created: true },
          afterSeconds: PROBE_POLL_SECONDS,
          message: "Waiting for the peer pod's IP",
        };
      return { type: "done", data: { peerIp: ip } };
    },
  };
}

/** Releases the check's job slot (idempotent). */
async function releaseSlot(slots: JobSlotQuota | undefined, i: IsolationCheckInput): Promise<void> {
  if (slots && i.slotId) await slots.releaseJobSlot(i.team, i.slotId);
}

/** Deletes both probes and the peer pod, then gives the job slot back (idempotent). */
async function cleanUp(
  kubernetes: ClusterKubernetesFactory,
  slots: JobSlotQuota | undefined,
  i: IsolationCheckInput,
): Promise<void> {
  const k8s = await kubernetes.forCluster(i.cluster);
  await deleteProbe(k8s, i, "sandboxed");
  await deleteProbe(k8s, i, "trusted");
  await k8s.deleteJob(PEER_PROBE_NAMESPACE, `${i.probeStem}-${PEER_JOB_SUFFIX}`, "Background");
  await releaseSlot(slots, i);
}

/**
 * `IsolationCheck`: steps `StartPeerPod`, `RunSandboxedProbe`,
 * `RunTrustedProbe`, `Compare`, `Cleanup` (deletes the probe and peer Jobs
 * and gives the job slot back; each probe also deletes its own as soon as it
 * is read). Deadline 15 minutes. A check that fails, times out or is canceled
 * (at once: the probe steps stop without waiting for their pods) gets the
 * same cleanup through `onEnded`, so it never keeps the team's job slot.
 */
export function isolationCheckKind(deps: {
  kubernetes: ClusterKubernetesFactory;
  slots?: JobSlotQuota;
  now?: () => Date;
}): OperationKindDefinition<IsolationCheckInput> {
  const now = deps.now ?? (() => new Date());
  return {
    kind: "IsolationCheck",
    deadlineSeconds: 900,
    steps: [
      peerStep(deps.kubernetes),
      probeStep("RunSandboxedProbe", "sandboxed", deps.kubernetes),
      probeStep("RunTrustedProbe", "trusted", deps.kubernetes),
      actionStep("Compare", async (context) => {
        const i = input(context);
        const k8s = await deps.kubernetes.forCluster(i.cluster);
        const namespace = await k8s.getObject("v1", "Namespace", undefined, i.namespace);
        const verdict = isolationVerdict(
          context.data.sandboxed as ProbeFinding,
          context.data.trusted as ProbeFinding,
          i.runtimeClassName,
          now().toISOString(),
          {
            internetAllowed: i.internetAllowed === true,
            podSecurity: namespace?.metadata?.labels?.[PSA_ENFORCE],
            namespace: i.namespace,
          },
        );
        return { data: { verdict }, result: verdict };
      }),
      actionStep("Cleanup", async (context) => cleanUp(deps.kubernetes, deps.slots, input(context))),
    ],
    result: (data) => data.verdict,
    // Failed (a probe's failure, the deadline) or canceled: the same cleanup, so the team's slot is not lost.
    onEnded: async (context) => {
      const i = context.input;
      // The slot first: a cluster that cannot be reached any more must not keep the team's slot.
      await releaseSlot(deps.slots, i);
      await cleanUp(deps.kubernetes, undefined, i);
    },
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
  /** Contains the probes' namespace like a job's (absent in unit tests). */
  containment?: NamespaceContainment;
  /** The check holds one of the team's job slots while it runs. */
  slots?: JobSlotQuota;
  /** Refuses a second concurrent check of the same team on the cluster. */
  activeOperations?: ActiveOperationLookup;
}): Promise<SubmitRequest> {
  const access = authorizeClusterAccess(request.principal, request.policy, request.cluster, "change");
  const team: TeamPolicy = access.team ?? SYSTEM_TEAM;
  const serialKey = `isolation-check|${team.name}|${clusterApiId(request.cluster)}`.toLowerCase();
  const running = await request.activeOperations?.activeOn(serialKey);
  if (running) {
    throw new SandboxError(
      "Conflict",
      `An isolation check of team "${team.name}" already runs on cluster "${request.cluster.clusterName}" (operation ${running.id}); wait for it (GET /api/v1/operations/${running.id}).`,
      { target: "clusterName", retryAfterSeconds: 10 },
    );
  }
  const k8s = await request.kubernetes.forCluster(request.cluster);
  if (!(await k8s.getRuntimeClass(request.runtimeClassName))) throw notReady(request.cluster, request.runtimeClassName);
  const namespace = access.namespace ?? SYSTEM_PROBE_NAMESPACE;
  if (request.containment) await request.containment.ensure(k8s, request.cluster, team, namespace);
  const probeStem = `isolation-probe-${request.unique}`;
  const slotId = `check-${probeStem}`;
  // Checks count against the team's job slots (an Admin without a team has none).
  const holdsSlot = request.slots !== undefined && access.team !== undefined;
  if (holdsSlot) await request.slots?.reserveJobSlot(team.name, slotId);
  const isolationInput: IsolationCheckInput = {
    cluster: { ...request.cluster },
    namespace,
    team: team.name,
    runtimeClassName: request.runtimeClassName,
    probeStem,
    internetAllowed: team.egress.internet,
    ...(holdsSlot ? { slotId } : {}),
  };
  return {
    kind: "IsolationCheck",
    serialKey,
    target: `${clusterApiId(request.cluster)}/isolation-checks`,
    subscriptionId: request.cluster.subscriptionId,
    input: isolationInput,
    createdBy: request.principal.id,
    team: request.principal.team,
    correlationId: request.requestId,
  };
}
