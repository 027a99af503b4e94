/**
 * The Kubernetes objects that contain a team's untrusted jobs in their
 * namespace of a cluster — pure, derived from the team policy only:
 *
 * - Namespace labels: Pod Security Admission `enforce: restricted` (plus
 *   `warn`/`audit`); a team whose policy lets sandboxed jobs run as root
 *   gets `enforce: baseline` (the isolation check reports that as a failed
 *   probe, it is never hidden).
 * - NetworkPolicies: deny all ingress and egress; allow DNS to the cluster
 *   DNS (CoreDNS in kube-system); allow what the team's `egress` policy
 *   opens, never the always-denied ranges (IMDS and link-local, the
 *   wireserver, the cluster's pod and service ranges — so the API server and
 *   other namespaces' pods — and private ranges for "internet").
 * - ResourceQuota: pods and summed limits of `maxConcurrentJobs` jobs of the
 *   largest allowed size, each with its sandbox VM's fixed overhead
 *   (1 vCPU, 2 GiB — the Pod Sandboxing docs' rule), plus ephemeral storage.
 * - LimitRange: container defaults and maxima from the team's quotas.
 * - ServiceAccount `sandbox-job`: no token automount, no RBAC bindings.
 */
import type { KubernetesObject } from "../kubernetes/clusterKubernetes.js";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TEAM_LABEL } from "../jobs/jobManifest.js";
import type { TeamEgress, TeamPolicy } from "../policy/policy.js";

/** The ServiceAccount every job and probe runs as. */
export const JOB_SERVICE_ACCOUNT = "sandbox-job";
export const DEFAULT_DENY_POLICY = "sandbox-default-deny";
export const DNS_POLICY = "sandbox-allow-dns";
export const EGRESS_POLICY = "sandbox-allow-egress";
export const QUOTA_NAME = "sandbox-quota";
export const LIMIT_RANGE_NAME = "sandbox-limits";
export const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";

/** Each sandboxed pod's VM overhead (AKS Pod Sandboxing: VM = 1 vCPU + cpu limit, 2 GiB + memory limit). */
export const SANDBOX_VM_OVERHEAD = { vCpu: 1, memoryMiB: 2048 } as const;
/**
 * Limits of a job container that names none (the LimitRange default, and
 * what the product sets explicitly): small, so an unsized job's sandbox VM
 * stays near the runtime's default size.
 */
export function defaultJobLimits(team: TeamPolicy): { cpu: number; memoryMiB: number } {
  return { cpu: Math.min(0.25, team.quotas.maxVCpuPerJob), memoryMiB: Math.min(512, team.quotas.maxMemoryMiBPerJob) };
}

/** Pods beyond maxConcurrentJobs: an isolation check's probe pods (the check itself holds a job slot). */
export const PROBE_POD_ALLOWANCE = 2;

/** Ranges no job may reach, whatever its team's policy says. */
export const ALWAYS_DENIED_CIDRS: readonly string[] = Object.freeze([
  "169.254.0.0/16", // IMDS (169.254.169.254) and link-local
  "168.63.129.16/32", // Azure wireserver
]);
/** What "internet" excludes besides the always-denied ranges: private and shared address space. */
export const PRIVATE_CIDRS: readonly string[] = Object.freeze([
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
]);

/** The cluster's own ranges (AKS defaults; the ARM networkProfile may name others). */
export interface ClusterRanges {
  podCidrs: readonly string[];
  serviceCidrs: readonly string[];
}
export const DEFAULT_CLUSTER_RANGES: ClusterRanges = Object.freeze({
  podCidrs: ["10.244.0.0/16"],
  serviceCidrs: ["10.0.0.0/16"],
});

function parseCidr(text: string): { base: number; bits: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(base / size) * size, bits };
}

/** True when `inner` lies inside `outer` (equal counts). */
export function cidrWithin(inner: string, outer: string): boolean {
  const a = parseCidr(inner);
  const b = parseCidr(outer);
  if (!a || !b || a.bits < b.bits) return false;
  const size = 2 ** (32 - b.bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}

/** A valid IPv4 CIDR. */
export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** Problems of an egress section (always-denied destinations named explicitly). For the policy loader. */
export function egressProblems(egress: TeamEgress): string[] {
  const problems: string[] = [];
  for (const cidr of egress.cidrs) {
    if (!isCidr(cidr)) problems.push(`"${cidr}" is not an IPv4 CIDR`);
    else {
      const denied = ALWAYS_DENIED_CIDRS.find((d) => cidrWithin(cidr, d));
      if (denied) problems.push(`"${cidr}" lies in ${denied}, which is always denied (IMDS, link-local, wireserver)`);
    }
  }
  return problems;
}

/** The `except` list of an allowed `cidr`: every denied range strictly inside it. */
function exceptions(cidr: string, denied: readonly string[]): string[] {
  return [...new Set(denied.filter((d) => d !== cidr && cidrWithin(d, cidr)))];
}

function namespacedMeta(name: string, namespace: string, team: string): KubernetesObject["metadata"] {
  return { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TEAM_LABEL]: team } };
}

/** The Pod Security level the team's namespace enforces. */
export function enforcedPodSecurity(team: TeamPolicy): "restricted" | "baseline" {
  return team.allowRunAsRoot ? "baseline" : "restricted";
}

/** The Namespace (labels only matter; applied server-side). */
export function containedNamespace(namespace: string, team: TeamPolicy): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [TEAM_LABEL]: team.name,
        [PSA_ENFORCE]: enforcedPodSecurity(team),
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
      },
    },
  };
}

/** The namespace's NetworkPolicies (2 or 3). */
export function containmentNetworkPolicies(
  namespace: string,
  team: TeamPolicy,
  ranges: ClusterRanges = DEFAULT_CLUSTER_RANGES,
): KubernetesObject[] {
  const policies: KubernetesObject[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: namespacedMeta(DEFAULT_DENY_POLICY, namespace, team.name),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: namespacedMeta(DNS_POLICY, namespace, team.name),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
  ];
  const egress = team.egress;
  const clusterOwn = [...ranges.podCidrs, ...ranges.serviceCidrs];
  const blocks: Array<{ cidr: string; except?: string[] }> = [];
  if (egress.internet) {
    blocks.push({ cidr: "0.0.0.0/0", except: exceptions("0.0.0.0/0", [...ALWAYS_DENIED_CIDRS, ...PRIVATE_CIDRS]) });
  }
  for (const cidr of egress.cidrs) {
    if (
      !isCidr(cidr) ||
      ALWAYS_DENIED_CIDRS.some((d) => cidrWithin(cidr, d)) ||
      clusterOwn.some((d) => cidrWithin(cidr, d))
    )
      continue;
    const except = exceptions(cidr, [...ALWAYS_DENIED_CIDRS, ...clusterOwn]);
    blocks.push(except.length ? { cidr, except } : { cidr });
  }
  if (blocks.length) {
    const ports = egress.ports.map((port) => ({ protocol: "TCP", port }));
    policies.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: namespacedMeta(EGRESS_POLICY, namespace, team.name),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: blocks.map((ipBlock) => ({ ipBlock })), ...(ports.length ? { ports } : {}) }],
      },
    });
  }
  return policies;
}

function mib(value: number): string {
  return value % 1024 === 0 ? `${value / 1024}Gi` : `${value}Mi`;
}

function cpu(value: number): string {
  return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
}

/** The ResourceQuota: pods and summed limits, sandbox VM overhead included. */
export function containmentQuota(namespace: string, team: TeamPolicy): KubernetesObject {
  const q = team.quotas;
  const jobs = Math.max(0, q.maxConcurrentJobs);
  const pods = jobs + PROBE_POD_ALLOWANCE;
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: namespacedMeta(QUOTA_NAME, namespace, team.name),
    spec: {
      hard: {
        pods: String(pods),
        "limits.cpu": cpu(pods * (q.maxVCpuPerJob + SANDBOX_VM_OVERHEAD.vCpu)),
        "limits.memory": mib(pods * (q.maxMemoryMiBPerJob + SANDBOX_VM_OVERHEAD.memoryMiB)),
        "limits.ephemeral-storage": mib(pods * q.ephemeralStorageMiBPerJob),
      },
    },
  };
}

/** The LimitRange: container defaults (what a job gets when it names no limits) and maxima. */
export function containmentLimitRange(namespace: string, team: TeamPolicy): KubernetesObject {
  const q = team.quotas;
  const defaults = defaultJobLimits(team);
  return {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: namespacedMeta(LIMIT_RANGE_NAME, namespace, team.name),
    spec: {
      limits: [
        {
          type: "Container",
          default: {
            cpu: cpu(defaults.cpu),
            memory: mib(defaults.memoryMiB),
            "ephemeral-storage": mib(q.ephemeralStorageMiBPerJob),
          },
          defaultRequest: {
            cpu: cpu(defaults.cpu),
            memory: mib(defaults.memoryMiB),
            "ephemeral-storage": mib(q.ephemeralStorageMiBPerJob),
          },
          max: {
            cpu: cpu(q.maxVCpuPerJob),
            memory: mib(q.maxMemoryMiBPerJob),
            "ephemeral-storage": mib(q.ephemeralStorageMiBPerJob),
          },
        },
      ],
    },
  };
}

/** The jobs' ServiceAccount: no token automount; nothing binds it to a role. */
export function containmentServiceAccount(namespace: string, team: TeamPolicy): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: namespacedMeta(JOB_SERVICE_ACCOUNT, namespace, team.name),
    automountServiceAccountToken: false,
  };
}

/** Everything, in apply order (the namespace first). */
export function containmentObjects(
  namespace: string,
  team: TeamPolicy,
  ranges: ClusterRanges = DEFAULT_CLUSTER_RANGES,
): KubernetesObject[] {
  return [
    containedNamespace(namespace, team),
    containmentServiceAccount(namespace, team),
    containmentLimitRange(namespace, team),
    containmentQuota(namespace, team),
    ...containmentNetworkPolicies(namespace, team, ranges),
  ];
}
