import type {
  ClusterKubernetes,
  ClusterKubernetesFactory,
  ClusterRef,
  DeletePropagation,
  KubernetesObject,
  NodeSummary,
  RuntimeClassSummary,
} from "../../../src/domain/kubernetes/clusterKubernetes.js";

const clusterKey = (c: ClusterRef): string =>
  [c.subscriptionId, c.resourceGroup, c.clusterName].map((p) => p.toLowerCase()).join("/");

/**
 * Typed in-memory {@link ClusterKubernetes} of one cluster for domain unit tests: RuntimeClasses, nodes,
 * namespaces and objects are what the test puts in; Jobs and other objects are stored as given (no kubelet).
 */
export class FakeClusterKubernetes implements ClusterKubernetes {
  readonly runtimeClasses = new Map<string, RuntimeClassSummary>();
  readonly nodes: NodeSummary[] = [];
  readonly namespaces = new Map<string, Record<string, string>>();
  /** `apiVersion/kind/namespace/name` → object. */
  readonly objects = new Map<string, KubernetesObject>();
  /** Every call by method name. */
  readonly calls: string[] = [];

  #key(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
    return `${apiVersion}/${kind}/${namespace ?? ""}/${name}`;
  }

  #inNamespace(apiVersion: string, kind: string, namespace: string): KubernetesObject[] {
    const prefix = `${apiVersion}/${kind}/${namespace}/`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  async getRuntimeClass(name: string) {
    this.calls.push("getRuntimeClass");
    return this.runtimeClasses.get(name);
  }

  async listNodes(_labelSelector?: string) {
    this.calls.push("listNodes");
    return [...this.nodes];
  }

  async ensureNamespace(name: string, labels: Record<string, string> = {}) {
    this.calls.push("ensureNamespace");
    this.namespaces.set(name, { ...this.namespaces.get(name), ...labels });
  }

  async createJob(namespace: string, job: KubernetesObject) {
    this.calls.push("createJob");
    return this.applyObject({ ...job, apiVersion: "batch/v1", kind: "Job", metadata: { ...job.metadata, namespace } });
  }

  async getJob(namespace: string, name: string) {
    this.calls.push("getJob");
    return this.objects.get(this.#key("batch/v1", "Job", namespace, name));
  }

  async listJobs(namespace: string, _labelSelector?: string) {
    this.calls.push("listJobs");
    return this.#inNamespace("batch/v1", "Job", namespace);
  }

  async deleteJob(namespace: string, name: string, _propagation: DeletePropagation) {
    this.calls.push("deleteJob");
    return this.objects.delete(this.#key("batch/v1", "Job", namespace, name));
  }

  async listPods(namespace: string, _labelSelector?: string) {
    this.calls.push("listPods");
    return this.#inNamespace("v1", "Pod", namespace);
  }

  async readPodLog(_namespace: string, _podName: string) {
    this.calls.push("readPodLog");
    return "";
  }

  async *followPodLog(_namespace: string, _podName: string, _container: string, _signal: AbortSignal) {
    this.calls.push("followPodLog");
    yield* [];
  }

  async listEvents(_namespace: string, _involvedObjectName?: string) {
    this.calls.push("listEvents");
    return [];
  }

  async applyObject(object: KubernetesObject) {
    this.calls.push("applyObject");
    const stored = structuredClone(object);
    this.objects.set(
      this.#key(stored.apiVersion ?? "", stored.kind ?? "", stored.metadata?.namespace, stored.metadata?.name ?? ""),
      stored,
    );
    return stored;
  }

  async getObject(apiVersion: string, kind: string, namespace: string | undefined, name: string) {
    this.calls.push("getObject");
    return this.objects.get(this.#key(apiVersion, kind, namespace, name));
  }

  async listObjects(apiVersion: string, kind: string, namespace: string, _labelSelector?: string) {
    this.calls.push("listObjects");
    return this.#inNamespace(apiVersion, kind, namespace);
  }

  async deleteObject(apiVersion: string, kind: string, namespace: string, name: string) {
    this.calls.push("deleteObject");
    return this.objects.delete(this.#key(apiVersion, kind, namespace, name));
  }
}

/** Typed {@link ClusterKubernetesFactory} over {@link FakeClusterKubernetes}es; an unknown cluster gets a fresh one. */
export class FakeClusterKubernetesFactory implements ClusterKubernetesFactory {
  readonly clusters = new Map<string, FakeClusterKubernetes>();
  /** When set, `forCluster` throws it (the cluster's API cannot be reached). */
  failWith: Error | undefined;

  cluster(ref: ClusterRef): FakeClusterKubernetes {
    const key = clusterKey(ref);
    let kube = this.clusters.get(key);
    if (!kube) this.clusters.set(key, (kube = new FakeClusterKubernetes()));
    return kube;
  }

  async forCluster(ref: ClusterRef): Promise<ClusterKubernetes> {
    if (this.failWith) throw this.failWith;
    return this.cluster(ref);
  }

  forget(ref: ClusterRef): void {
    this.clusters.delete(clusterKey(ref));
  }
}
