import { createHash } from "node:crypto";
import type { SimulatedCluster, SimulatedNodePool } from "../simulatedCloud.js";
import type { KubernetesEmulatorSettings } from "./kubernetesEmulatorSettings.js";
import { k8sTime, type KubeObject, type Toleration } from "./kubernetesObjects.js";

/**
 * Nodes and RuntimeClasses are not stored: they are derived on every request
 * from the shared `SimulatedCloud` pools that the ARM emulator maintains, so
 * scaling or deleting a pool through ARM is visible at once.
 */

/** Sandbox flavours: ARM workloadRuntime → node label and RuntimeClass name/handler. */
export const SANDBOX_RUNTIMES: Record<string, { label: string; runtimeClass: string }> = {
  KataMshvVmIsolation: { label: "kubernetes.azure.com/kata-mshv-vm-isolation", runtimeClass: "kata-mshv-vm-isolation" },
  KataVmIsolation: { label: "kubernetes.azure.com/kata-vm-isolation", runtimeClass: "kata-vm-isolation" },
};

/** A node with the facts the scheduler needs next to its API object. */
export interface DerivedNode {
  object: KubeObject & { spec: { taints?: Array<{ key: string; value?: string; effect: string }> } };
  name: string;
  pool: SimulatedNodePool;
  sandbox: boolean;
  kernel: string;
  /** Allocatable CPU in cores and memory in bytes. */
  allocatableCpu: number;
  allocatableMemory: number;
  labels: Record<string, string>;
}

/** Deterministic UUID-formatted id from text (stable across requests). */
export function stableUid(text: string): string {
  const h = createHash("sha1").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `1.30` → `1.30.0`; `1.30.4` stays. */
export function fullKubernetesVersion(version: string): string {
  const parts = version.replace(/^v/, "").split(".");
  while (parts.length < 3) parts.push("0");
  return parts.slice(0, 3).join(".");
}

/** AKS kube-reserved CPU (millicores) by core count, from the AKS node resource reservation table. */
function reservedCpuMillis(cores: number): number {
  const table: Array<[number, number]> = [
    [1, 60],
    [2, 100],
    [4, 140],
    [8, 180],
    [16, 260],
    [32, 420],
    [64, 740],
  ];
  for (const [c, m] of table) if (cores <= c) return m;
  return 740;
}

/** Parses an ARM taint `key=value:Effect` (value optional). */
function parseTaint(text: string): { key: string; value?: string; effect: string } | undefined {
  const m = text.match(/^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/);
  if (!m) return undefined;
  return m[2] === undefined
    ? { key: m[1] ?? "", effect: m[3] ?? "" }
    : { key: m[1] ?? "", value: m[2], effect: m[3] ?? "" };
}

/**
 * The nodes of `cluster`: `count` nodes for each pool that has ever reached
 * `Succeeded`, named like AKS VMSS nodes (`aks-<pool>-<8 digits>-vmss00000<i>`).
 * `firstSeen` remembers creation timestamps across calls (simulated ms).
 */
export function deriveClusterNodes(
  cluster: SimulatedCluster,
  settings: KubernetesEmulatorSettings,
  nowMs: number,
  firstSeen: Map<string, number>,
): DerivedNode[] {
  const nodes: DerivedNode[] = [];
  let ipIndex = 4;
  const version = `v${fullKubernetesVersion(cluster.kubernetesVersion)}`;
  for (const pool of cluster.pools.values()) {
    if (!pool.everSucceeded) continue;
    const digits = String(
      Number.parseInt(createHash("sha1").update(`${cluster.key}/${pool.name}`).digest("hex").slice(0, 8), 16) % 1e8,
    ).padStart(8, "0");
    const sandbox = SANDBOX_RUNTIMES[pool.workloadRuntime];
    const azureLinux = /azurelinux|mariner/i.test(pool.osSku);
    const kernel = sandbox
      ? settings.sandboxNodeKernel
      : azureLinux
        ? settings.azureLinuxNodeKernel
        : settings.ubuntuNodeKernel;
    const osImage = azureLinux || sandbox ? "CBL-Mariner/Linux" : "Ubuntu 22.04.5 LTS";
    const capacityKi = Math.round(pool.memoryGiBPerNode * 1024 * 1024 * 0.98);
    // kube-reserved memory (AKS ≥ 1.29: 20 MiB × maxPods + 50 MiB) plus the 100 MiB eviction threshold.
    const allocatableKi = Math.max(0, capacityKi - (20 * 110 + 50 + 100) * 1024);
    const allocatableCpuMillis = Math.max(0, pool.vCpuPerNode * 1000 - reservedCpuMillis(pool.vCpuPerNode));
    const taints = pool.taints.map(parseTaint).filter((t) => t !== undefined);
    for (let i = 0; i < pool.count; i++) {
      const name = `aks-${pool.name}-${digits}-vmss${i.toString(36).padStart(6, "0")}`;
      let created = firstSeen.get(name);
      if (created === undefined) {
        created = nowMs;
        firstSeen.set(name, created);
      }
      const labels: Record<string, string> = {
        agentpool: pool.name,
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": pool.vmSize,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.azure.com/agentpool": pool.name,
        "kubernetes.azure.com/cluster": `MC_${cluster.resourceGroup}_${cluster.name}_${cluster.location}`,
        "kubernetes.azure.com/mode": pool.mode.toLowerCase(),
        "kubernetes.azure.com/os-sku": pool.osSku,
        "kubernetes.azure.com/role": "agent",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/role": "agent",
        "node.kubernetes.io/instance-type": pool.vmSize,
        "topology.kubernetes.io/region": cluster.location,
        "topology.kubernetes.io/zone": "0",
        ...(sandbox ? { [sandbox.label]: "true" } : {}),
        ...pool.labels,
      };
      const createdAt = k8sTime(created);
      const ip = `10.224.0.${ipIndex++}`;
      const object = {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          uid: stableUid(`${cluster.key}/node/${name}`),
          resourceVersion: "1",
          creationTimestamp: createdAt,
          labels,
          annotations: {
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
          },
        },
        spec: {
          providerID:
            `azure:///subscriptions/${cluster.subscriptionId}/resourceGroups/mc_${cluster.resourceGroup}_${cluster.name}_${cluster.location}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-${pool.name}-${digits}-vmss/virtualMachines/${i}`.toLowerCase(),
          ...(taints.length ? { taints } : {}),
        },
        status: {
          capacity: {
            cpu: String(pool.vCpuPerNode),
            memory: `${capacityKi}Ki`,
            pods: "110",
            "ephemeral-storage": "129886128Ki",
          },
          allocatable: {
            cpu: `${allocatableCpuMillis}m`,
            memory: `${allocatableKi}Ki`,
            pods: "110",
            "ephemeral-storage": "119703055367",
          },
          conditions: [
            {
              type: "MemoryPressure",
              status: "False",
              lastHeartbeatTime: k8sTime(nowMs),
              lastTransitionTime: createdAt,
              reason: "KubeletHasSufficientMemory",
              message: "kubelet has sufficient memory available",
            },
            {
              type: "DiskPressure",
              status: "False",
              lastHeartbeatTime: k8sTime(nowMs),
              lastTransitionTime: createdAt,
              reason: "KubeletHasNoDiskPressure",
              message: "kubelet has no disk pressure",
            },
            {
              type: "PIDPressure",
              status: "False",
              lastHeartbeatTime: k8sTime(nowMs),
              lastTransitionTime: createdAt,
              reason: "KubeletHasSufficientPID",
              message: "kubelet has sufficient PID available",
            },
            {
              type: "Ready",
              status: "True",
              lastHeartbeatTime: k8sTime(nowMs),
              lastTransitionTime: createdAt,
              reason: "KubeletReady",
              message: "kubelet is posting ready status",
            },
          ],
          addresses: [
            { type: "InternalIP", address: ip },
            { type: "Hostname", address: name },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
          nodeInfo: {
            machineID: stableUid(`${name}/machine`).replace(/-/g, ""),
            systemUUID: stableUid(`${name}/system`),
            bootID: stableUid(`${name}/boot`),
            kernelVersion: kernel,
            osImage,
            containerRuntimeVersion: "containerd://1.7.20-1",
            kubeletVersion: version,
            kubeProxyVersion: version,
            operatingSystem: "linux",
            architecture: "amd64",
          },
        },
      };
      nodes.push({
        object,
        name,
        pool,
        sandbox: sandbox !== undefined,
        kernel,
        allocatableCpu: allocatableCpuMillis / 1000,
        allocatableMemory: allocatableKi * 1024,
        labels,
      });
    }
  }
  return nodes;
}

/** A RuntimeClass with the fields admission and scheduling use. */
export interface DerivedRuntimeClass {
  object: KubeObject & {
    handler: string;
    scheduling: { nodeSelector: Record<string, string>; tolerations?: Toleration[] };
  };
  name: string;
  nodeSelector: Record<string, string>;
}

/**
 * RuntimeClasses of `cluster`: AKS installs `kata-mshv-vm-isolation`
 * (resp. `kata-vm-isolation`) once a pool with that workload runtime is up
 * (has ever reached `Succeeded`) with its runtime installed; there is none
 * otherwise.
 */
export function deriveRuntimeClasses(
  cluster: SimulatedCluster,
  nowMs: number,
  firstSeen: Map<string, number>,
): DerivedRuntimeClass[] {
  const out: DerivedRuntimeClass[] = [];
  for (const [runtime, flavour] of Object.entries(SANDBOX_RUNTIMES)) {
    const up = [...cluster.pools.values()].some(
      (p) => p.workloadRuntime === runtime && p.everSucceeded && p.runtimeInstalled !== false,
    );
    if (!up) continue;
    const key = `runtimeclass/${flavour.runtimeClass}`;
    let created = firstSeen.get(key);
    if (created === undefined) {
      created = nowMs;
      firstSeen.set(key, created);
    }
    const nodeSelector = { [flavour.label]: "true" };
    out.push({
      name: flavour.runtimeClass,
      nodeSelector,
      object: {
        apiVersion: "node.k8s.io/v1",
        kind: "RuntimeClass",
        metadata: {
          name: flavour.runtimeClass,
          uid: stableUid(`${cluster.key}/${key}`),
          resourceVersion: "1",
          creationTimestamp: k8sTime(created),
          labels: { "addonmanager.kubernetes.io/mode": "Reconcile" },
        },
        handler: flavour.runtimeClass,
        scheduling: { nodeSelector },
      },
    });
  }
  return out;
}
