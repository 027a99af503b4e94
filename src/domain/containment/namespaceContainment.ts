/**
 * Keeps a team's namespace on a cluster contained: applies the objects of
 * `containmentObjects.ts` by server-side apply (idempotent: an unchanged
 * object stays as it is) and removes NetworkPolicies that are not the
 * product's (policies add up, so a stray allow-all would open the
 * namespace). Job submission ensures it (at most once per
 * `refreshSeconds` per cluster and namespace, per instance); the job timer
 * repairs it (forced) for every namespace with active jobs.
 *
 * Also answers which network policy engine a cluster has, from its ARM
 * resource (cached briefly: a submission must not cost an ARM read).
 */
import type { ClusterKubernetes, ClusterRef } from "../kubernetes/clusterKubernetes.js";
import type { TeamPolicy } from "../policy/policy.js";
import type { SandboxArm } from "../sandbox/sandboxArm.js";
import { networkPolicyEngineOf, type ClusterNetworkView } from "../sandbox/clusterView.js";
import { containmentNetworkPolicies, containmentObjects } from "./containmentObjects.js";

export interface NamespaceContainmentDependencies {
  /** For the cluster's network profile; absent: the engine is unknown (treated as none). */
  arm?: SandboxArm;
  /** AKS api-version of ARM reads. */
  containerServiceApiVersion?: string;
  /** How long an ensured namespace is trusted before the next submission re-applies it. Default 300. */
  refreshSeconds?: number;
  /** How long a cluster's engine is cached. Default 60. */
  engineCacheSeconds?: number;
  nowMs?: () => number;
  log?: (event: Record<string, unknown>) => void;
}

function key(cluster: ClusterRef, namespace = ""): string {
  return `${cluster.subscriptionId}/${cluster.resourceGroup}/${cluster.clusterName}/${namespace}`.toLowerCase();
}

export class NamespaceContainment {
  readonly #ensured = new Map<string, number>();
  readonly #engines = new Map<string, { view: ClusterNetworkView | undefined; at: number }>();
  readonly #nowMs: () => number;

  constructor(private readonly deps: NamespaceContainmentDependencies = {}) {
    this.#nowMs = deps.nowMs ?? (() => Date.now());
  }

  /**
   * Applies every containment object of `team` in `namespace` and removes
   * foreign NetworkPolicies there. Skipped when done within
   * `refreshSeconds`, unless `force`.
   */
  async ensure(
    k8s: ClusterKubernetes,
    cluster: ClusterRef,
    team: TeamPolicy,
    namespace: string,
    options: { force?: boolean } = {},
  ): Promise<void> {
    const k = key(cluster, namespace);
    if (!options.force && this.isFresh(cluster, namespace)) return;
    for (const object of containmentObjects(namespace, team)) await k8s.applyObject(object);
    const ours = new Set(containmentNetworkPolicies(namespace, team).map((p) => p.metadata?.name));
    for (const policy of await k8s.listObjects("networking.k8s.io/v1", "NetworkPolicy", namespace)) {
      const name = policy.metadata?.name ?? "";
      if (ours.has(name)) continue;
      await k8s.deleteObject("networking.k8s.io/v1", "NetworkPolicy", namespace, name);
      this.deps.log?.({
        msg: "removed a foreign NetworkPolicy from a contained namespace",
        cluster: cluster.clusterName,
        namespace,
        policy: name,
      });
    }
    this.#ensured.set(k, this.#nowMs());
  }

  /** True when {@link ensure} would skip the namespace now (applied within `refreshSeconds`). */
  isFresh(cluster: ClusterRef, namespace: string): boolean {
    const last = this.#ensured.get(key(cluster, namespace));
    return last !== undefined && this.#nowMs() - last < (this.deps.refreshSeconds ?? 300) * 1000;
  }

  /** Forgets that a namespace was ensured (the next submission re-applies). */
  forget(cluster: ClusterRef, namespace: string): void {
    this.#ensured.delete(key(cluster, namespace));
  }

  /** The cluster's network policy engine, or undefined when the cluster cannot be read. */
  async clusterNetwork(cluster: ClusterRef, correlationId: string): Promise<ClusterNetworkView | undefined> {
    const { arm, containerServiceApiVersion } = this.deps;
    if (!arm || !containerServiceApiVersion) return undefined;
    const k = key(cluster);
    const cached = this.#engines.get(k);
    if (cached && this.#nowMs() - cached.at < (this.deps.engineCacheSeconds ?? 60) * 1000) return cached.view;
    const state = await arm.getCluster(cluster, containerServiceApiVersion, { correlationId });
    const view = state ? networkPolicyEngineOf(state.resource) : undefined;
    this.#engines.set(k, { view, at: this.#nowMs() });
    return view;
  }
}
