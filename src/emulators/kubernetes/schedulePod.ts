/**
 * The simulated scheduler: node name, node selector, taints and tolerations,
 * CPU and memory fit (Kata VM size for sandboxed pods), with the scheduler's
 * FailedScheduling message when nothing fits.
 */
import type { ClusterState, PodRecord } from "./clusterState.js";
import { SANDBOX_RUNTIMES, type DerivedNode } from "./deriveClusterNodes.js";
import type { PodObject } from "./kubernetesObjects.js";
import { parseQuantity } from "./parseQuantity.js";

export function isSandboxed(pod: PodObject): boolean {
  const rc = pod.spec.runtimeClassName;
  return rc !== undefined && Object.values(SANDBOX_RUNTIMES).some((s) => s.runtimeClass === rc);
}

/** CPU (cores) and memory (bytes) a pod takes on a node: the Kata VM size for sandboxed pods, its requests otherwise. */
function demand(state: ClusterState, pod: PodObject): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  const sandboxed = isSandboxed(pod);
  for (const c of pod.spec.containers) {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (sandboxed) {
      // AKS: VM = 1 vCPU + cpu limit, 2 GiB + memory limit; requests are ignored.
      cpu += parseQuantity(limits.cpu) ?? 0;
      memory += parseQuantity(limits.memory) ?? 0;
    } else {
      cpu += parseQuantity(requests.cpu ?? limits.cpu) ?? 0;
      memory += parseQuantity(requests.memory ?? limits.memory) ?? 0;
    }
  }
  if (sandboxed) {
    cpu += state.settings.sandboxVmCpu;
    memory += state.settings.sandboxVmMemoryGiB * 2 ** 30;
  }
  return { cpu, memory };
}

/** Picks a node for the pod, or explains (as the scheduler's FailedScheduling message) why none fits. */
export function schedulePod(state: ClusterState, rec: PodRecord): { node: DerivedNode } | { message: string } {
  const nodes = state.nodes();
  if (nodes.length === 0) return { message: "no nodes available to schedule pods" };
  const used = new Map<string, { cpu: number; memory: number }>();
  for (const other of state.pods.values()) {
    const phase = other.pod.status?.phase;
    if (other === rec || !other.node || other.removed || phase === "Succeeded" || phase === "Failed") continue;
    const u = used.get(other.node.name) ?? { cpu: 0, memory: 0 };
    const d = demand(state, other.pod);
    used.set(other.node.name, { cpu: u.cpu + d.cpu, memory: u.memory + d.memory });
  }
  const wanted = demand(state, rec.pod);
  const reasons = new Map<string, number>();
  const add = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  let resourceMisses = 0;
  const feasible: Array<{ node: DerivedNode; freeCpu: number }> = [];
  for (const node of nodes) {
    if (rec.pod.spec.nodeName && rec.pod.spec.nodeName !== node.name) {
      add("node(s) didn't match the requested node name");
      continue;
    }
    const selector = rec.pod.spec.nodeSelector ?? {};
    if (!Object.entries(selector).every(([k, v]) => node.labels[k] === v)) {
      add("node(s) didn't match Pod's node affinity/selector");
      continue;
    }
    const untolerated = (node.object.spec.taints ?? []).find(
      (t) =>
        (t.effect === "NoSchedule" || t.effect === "NoExecute") &&
        !(rec.pod.spec.tolerations ?? []).some((tol) => tolerates(tol, t)),
    );
    if (untolerated) {
      add(`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ""}}`);
      continue;
    }
    const u = used.get(node.name) ?? { cpu: 0, memory: 0 };
    const freeCpu = node.allocatableCpu - u.cpu;
    const freeMemory = node.allocatableMemory - u.memory;
    let fits = true;
    if (wanted.cpu > freeCpu + 1e-9) {
      add("Insufficient cpu");
      fits = false;
    }
    if (wanted.memory > freeMemory) {
      add("Insufficient memory");
      fits = false;
    }
    if (!fits) resourceMisses++;
    else feasible.push({ node, freeCpu });
  }
  if (feasible.length) {
    feasible.sort((a, b) => b.freeCpu - a.freeCpu);
    return { node: (feasible[0] as { node: DerivedNode }).node };
  }
  const n = nodes.length;
  const parts = [...reasons.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([r, c]) => `${c} ${r}`);
  const preemption: string[] = [];
  if (resourceMisses) preemption.push(`${resourceMisses} No preemption victims found for incoming pod`);
  if (n - resourceMisses) preemption.push(`${n - resourceMisses} Preemption is not helpful for scheduling`);
  return {
    message: `0/${n} nodes are available: ${parts.join(", ")}. preemption: 0/${n} nodes are available: ${preemption.sort().join(", ")}.`,
  };
}

function tolerates(
  tol: { key?: string; operator?: string; value?: string; effect?: string },
  taint: { key: string; value?: string; effect: string },
): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === "Exists") return tol.key === undefined || tol.key === "" || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? "") === (taint.value ?? "");
}
