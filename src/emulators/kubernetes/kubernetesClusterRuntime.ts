/**
 * The façade of one simulated cluster, as the emulator's routes see it. The
 * work is done by its parts, which share one {@link ClusterState}:
 * - the namespaced policy objects: {@link NamespacedObjectStore};
 * - pod admission (RuntimeClass, ServiceAccount, LimitRange, Pod Security,
 *   ResourceQuota): {@link admitPod};
 * - scheduling and the pod lifecycle (containers, restarts, network, disk):
 *   {@link SimulatedKubelet} with {@link schedulePod}; container logs: {@link PodLogs};
 * - Jobs (API, controller, back-off, TTL): {@link JobController}.
 * Namespaces, nodes, runtime classes, events and persistence stay here.
 */
import { randomUUID } from "node:crypto";
import type { SimulatedCloud, SimulatedCluster } from "../simulatedCloud.js";
import { admitPod, quotaUsed } from "./admitPod.js";
import { ClusterState, copy, type ContainerLogs } from "./clusterState.js";
import type { DerivedNode, DerivedRuntimeClass } from "./deriveClusterNodes.js";
import { JobController, type PropagationPolicy, type SavedJob } from "./jobController.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import type { KubernetesEmulatorSettings } from "./kubernetesEmulatorSettings.js";
import { k8sTime, type EventObject, type JobObject, type KubeObject, type PodObject } from "./kubernetesObjects.js";
import type { KubernetesSchemaValidator } from "./kubernetesSchemaValidator.js";
import { NamespacedObjectStore } from "./namespacedObjectStore.js";
import type { PatchType } from "./objectPatch.js";
import { applyPatch } from "./objectPatch.js";
import type { OutcomeScripts } from "./outcomeScripts.js";
import { PodLogs, type LogOptions } from "./podLogs.js";
import { quotaStatus } from "./resourceAdmission.js";
import { checkBodyBasics, mergeCauses, schemaCheck } from "./schemaCheck.js";
import { SimulatedKubelet } from "./simulatedKubelet.js";
import { validatePodSpec } from "./validatePodSpec.js";
import { validateObjectMeta } from "./validateObjectMeta.js";

export type { LogOptions } from "./podLogs.js";
export type { PropagationPolicy } from "./jobController.js";

/** A cluster's objects as plain data (see {@link KubernetesClusterRuntime.exportObjects}). */
export interface ClusterObjects {
  resourceVersion: number;
  namespaces: KubeObject[];
  jobs: SavedJob[];
  pods: Array<{ pod: PodObject; logs: Record<string, ContainerLogs> }>;
  events: EventObject[];
  /** NetworkPolicies, ResourceQuotas, LimitRanges, ServiceAccounts (absent in state files written before them). */
  stored?: Array<[string, KubeObject]>;
}

/**
 * The API objects and simulated controllers (scheduler, kubelet, job and TTL
 * controllers) of one simulated cluster. Methods throw `KubernetesApiError`
 * for what the apiserver would refuse; objects handed out are copies.
 */
export class KubernetesClusterRuntime {
  readonly #state: ClusterState;
  readonly #logs: PodLogs;
  readonly #kubelet: SimulatedKubelet;
  readonly #jobs: JobController;
  /** NetworkPolicies, ResourceQuotas, LimitRanges, ServiceAccounts. */
  readonly objects: NamespacedObjectStore;

  constructor(
    readonly clusterKey: string,
    readonly cloud: SimulatedCloud,
    readonly settings: KubernetesEmulatorSettings,
    readonly scripts: OutcomeScripts,
    readonly schemas: KubernetesSchemaValidator,
  ) {
    const state = new ClusterState(clusterKey, cloud, settings);
    this.#state = state;
    this.objects = new NamespacedObjectStore({
      schemas,
      nowMs: () => state.nowMs(),
      nextResourceVersion: () => state.nextResourceVersion(),
      namespaceExists: (namespace) => state.namespaces.has(namespace),
      decorate: (resource, object) =>
        resource === "resourcequotas"
          ? { ...object, status: quotaStatus(object, quotaUsed(state, object.metadata.namespace ?? "", undefined)) }
          : object,
    });
    this.#logs = new PodLogs(state);
    this.#kubelet = new SimulatedKubelet(state, this.objects, scripts, this.#logs, (rec) =>
      this.#jobs.notifyOwner(rec),
    );
    this.#jobs = new JobController(state, schemas, this.#kubelet, (namespace, pod, displayName) =>
      admitPod(state, this.objects, namespace, pod, displayName),
    );
    const now = state.nowMs();
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      state.namespaces.set(name, this.#namespaceObject(name, now, randomUUID()));
      this.objects.ensureDefaultServiceAccount(name);
    }
  }

  /** The cluster's network policy engine (`none` when the ARM cluster has none). */
  get networkPolicyEngine(): string {
    return this.cluster.networkPolicy ?? "none";
  }

  get cluster(): SimulatedCluster {
    return this.#state.cluster;
  }

  /** Current list resourceVersion. */
  get resourceVersion(): string {
    return String(this.#state.resourceVersion);
  }

  /** Pods or jobs deleted after resourceVersion `since` (for watch `DELETED` events). */
  deletedSince(resource: string, since: number): KubeObject[] {
    return this.#state.deletedSince(resource, since);
  }

  /** Stops every simulated process and timer (emulator shutdown). Idempotent. */
  close(): void {
    this.#state.closed.abort();
    for (const rec of this.#state.pods.values()) rec.kill.abort();
  }

  /** Wakes pods waiting to be scheduled (the cloud's pools changed). */
  poke(): void {
    this.#kubelet.poke();
  }

  // ---------------------------------------------------------------- namespaces

  #namespaceObject(
    name: string,
    nowMs: number,
    uid: string,
    labels: Record<string, string> = {},
    annotations?: Record<string, string>,
  ): KubeObject {
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        uid,
        resourceVersion: this.#state.nextResourceVersion(),
        creationTimestamp: k8sTime(nowMs),
        labels: { ...labels, "kubernetes.io/metadata.name": name },
        ...(annotations ? { annotations } : {}),
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    };
  }

  listNamespaces(): KubeObject[] {
    return [...this.#state.namespaces.values()].map(copy);
  }

  getNamespace(name: string): KubeObject {
    const ns = this.#state.namespaces.get(name);
    if (!ns) throw KubernetesApiError.notFound("namespaces", "", name);
    return copy(ns);
  }

  /** POST a Namespace (names are DNS-1123 labels). */
  createNamespace(body: unknown, dryRun: boolean): KubeObject {
    const object = checkBodyBasics(body, "Namespace", "v1", undefined);
    const causes = mergeCauses(
      schemaCheck(this.schemas, "Namespace", "", object),
      validateObjectMeta(object.metadata, "label"),
    );
    if (causes.length) throw KubernetesApiError.invalid("Namespace", "", object.metadata.name ?? "", causes);
    const name =
      object.metadata.name ??
      this.#state.generateName(object.metadata.generateName ?? "", (n) => this.#state.namespaces.has(n));
    if (this.#state.namespaces.has(name)) throw KubernetesApiError.alreadyExists("namespaces", "", name);
    const ns = this.#namespaceObject(
      name,
      this.#state.nowMs(),
      randomUUID(),
      object.metadata.labels,
      object.metadata.annotations,
    );
    if (!dryRun) {
      this.#state.namespaces.set(name, ns);
      this.objects.ensureDefaultServiceAccount(name);
    }
    return copy(ns);
  }

  /**
   * PATCH (merge, strategic, apply) or PUT (`type` undefined, `body` the
   * whole object) of a Namespace: labels and annotations change; the name
   * label, uid and status stay. No change keeps the resourceVersion.
   */
  updateNamespace(name: string, type: PatchType | undefined, body: unknown, dryRun: boolean): KubeObject {
    const live = this.#state.namespaces.get(name);
    if (!live) {
      if (type === "apply")
        return this.createNamespace(
          { ...(body as KubeObject), metadata: { ...((body as KubeObject | undefined)?.metadata ?? {}), name } },
          dryRun,
        );
      throw KubernetesApiError.notFound("namespaces", "", name);
    }
    const merged = (type === undefined ? body : applyPatch(type, live, body)) as KubeObject;
    const object = checkBodyBasics(merged, "Namespace", "v1", undefined);
    if (object.metadata.name !== undefined && object.metadata.name !== name) {
      throw KubernetesApiError.badRequest(
        `the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    const { status: _status, ...rest } = object;
    const causes = mergeCauses(
      schemaCheck(this.schemas, "Namespace", "", rest),
      validateObjectMeta({ ...object.metadata, name }, "label"),
    );
    if (causes.length) throw KubernetesApiError.invalid("Namespace", "", name, causes);
    const next: KubeObject = {
      ...live,
      metadata: {
        ...live.metadata,
        labels: { ...(object.metadata.labels ?? {}), "kubernetes.io/metadata.name": name },
        ...(object.metadata.annotations ? { annotations: object.metadata.annotations } : {}),
      },
    };
    if (!object.metadata.annotations) delete next.metadata.annotations;
    if (JSON.stringify(next.metadata) === JSON.stringify(live.metadata)) return copy(live);
    if (dryRun) return copy(next);
    this.#state.bump(next);
    this.#state.namespaces.set(name, next);
    return copy(next);
  }

  // ---------------------------------------------------------------- nodes & runtime classes

  nodes(): DerivedNode[] {
    return this.#state.nodes();
  }

  runtimeClasses(): DerivedRuntimeClass[] {
    return this.#state.runtimeClasses();
  }

  listNodes(): KubeObject[] {
    return this.nodes().map((n) => n.object);
  }

  getNode(name: string): KubeObject {
    const node = this.nodes().find((n) => n.name === name);
    if (!node) throw KubernetesApiError.notFound("nodes", "", name);
    return node.object;
  }

  listRuntimeClasses(): KubeObject[] {
    return this.runtimeClasses().map((r) => r.object);
  }

  getRuntimeClass(name: string): KubeObject {
    const rc = this.runtimeClasses().find((r) => r.name === name);
    if (!rc) throw KubernetesApiError.notFound("runtimeclasses", "node.k8s.io", name);
    return rc.object;
  }

  // ---------------------------------------------------------------- events

  listEvents(namespace: string | undefined): EventObject[] {
    return this.#state.events.filter((e) => namespace === undefined || e.metadata.namespace === namespace).map(copy);
  }

  // ---------------------------------------------------------------- pods

  listPods(namespace: string | undefined): PodObject[] {
    return [...this.#state.pods.values()]
      .filter((r) => namespace === undefined || r.pod.metadata.namespace === namespace)
      .map((r) => copy(r.pod));
  }

  getPod(namespace: string, name: string): PodObject {
    return copy(this.#state.podRecord(namespace, name).pod);
  }

  /** POST a Pod: schema and semantic validation, RuntimeClass admission, then the simulated kubelet takes over. */
  createPod(namespace: string, body: unknown, dryRun: boolean): PodObject {
    const object = checkBodyBasics(body, "Pod", "v1", namespace) as PodObject;
    const causes = mergeCauses(schemaCheck(this.schemas, "Pod", "", object), [
      ...validateObjectMeta(object.metadata, "subdomain"),
      ...validatePodSpec(object.spec, "spec", ["Always", "OnFailure", "Never"]),
    ]);
    if (causes.length)
      throw KubernetesApiError.invalid("Pod", "", object.metadata.name ?? object.metadata.generateName ?? "", causes);
    this.#state.requireNamespace(namespace);
    const name =
      object.metadata.name ??
      this.#state.generateName(object.metadata.generateName ?? "", (n) => this.#state.pods.has(`${namespace}/${n}`));
    if (this.#state.pods.has(`${namespace}/${name}`)) throw KubernetesApiError.alreadyExists("pods", "", name);
    const pod = admitPod(
      this.#state,
      this.objects,
      namespace,
      { ...object, metadata: { ...object.metadata, name } },
      name,
    );
    if (dryRun) return copy(pod);
    return copy(this.#kubelet.startPod(pod));
  }

  /**
   * DELETE a pod: it turns `Terminating` (deletionTimestamp set, processes
   * killed) and disappears after the grace period (capped by
   * `settings.terminationSeconds`). Idempotent while terminating.
   */
  deletePod(namespace: string, name: string, gracePeriodSeconds: number | undefined, dryRun = false): PodObject {
    const rec = this.#state.podRecord(namespace, name);
    if (dryRun) return copy(rec.pod);
    this.#kubelet.terminatePod(rec, gracePeriodSeconds);
    return copy(rec.pod);
  }

  /** Reads a container's log as the kubelet would serve it (`text/plain`). */
  readLog(namespace: string, name: string, options: LogOptions): string {
    return this.#logs.read(namespace, name, options);
  }

  /**
   * Follows a container log: `onLine` gets the existing lines (after
   * `tailLines`) then new ones; `onEnd` fires when the container stops or the
   * pod goes away. Returns an unsubscribe function.
   */
  followLog(
    namespace: string,
    name: string,
    options: LogOptions,
    onText: (text: string) => void,
    onEnd: () => void,
  ): () => void {
    return this.#logs.follow(namespace, name, options, onText, onEnd);
  }

  // ---------------------------------------------------------------- jobs

  listJobs(namespace: string | undefined): JobObject[] {
    return this.#jobs.list(namespace);
  }

  getJob(namespace: string, name: string): JobObject {
    return this.#jobs.get(namespace, name);
  }

  /** POST a Job: validation, defaulting (selector, labels, backoffLimit 6, …), then the job controller starts. */
  createJob(namespace: string, body: unknown, dryRun: boolean): JobObject {
    return this.#jobs.create(namespace, body, dryRun);
  }

  /** DELETE a Job with the given propagation; returns the Job when it still exists (Foreground), else `undefined`. */
  deleteJob(namespace: string, name: string, policy: PropagationPolicy, dryRun = false): JobObject | undefined {
    return this.#jobs.delete(namespace, name, policy, dryRun);
  }

  // ---------------------------------------------------------------- persistence & snapshot

  /**
   * Persistence (simulated Azure keeps its state across restarts): the
   * cluster's objects as plain data. Only terminal pods are kept (with their
   * logs): a running pod's simulated process does not survive a restart, so,
   * as after a node loss, its Job's controller creates a replacement.
   */
  exportObjects(): ClusterObjects {
    const pods = [...this.#state.pods.values()].filter(
      (r) => !r.removed && ["Succeeded", "Failed"].includes(r.pod.status?.phase ?? ""),
    );
    return {
      resourceVersion: this.#state.resourceVersion,
      namespaces: [...this.#state.namespaces.values()].map(copy),
      jobs: this.#jobs.save(),
      pods: pods.map((r) => ({
        pod: copy(r.pod),
        logs: Object.fromEntries([...r.logs].map(([c, l]) => [c, copy(l)])),
      })),
      events: this.#state.events.map(copy),
      stored: this.objects.exportAll(),
    };
  }

  /** Restores what {@link exportObjects} wrote (into a fresh runtime); unfinished Jobs resume. */
  importObjects(state: ClusterObjects): void {
    this.#state.advanceResourceVersion(state.resourceVersion);
    for (const ns of state.namespaces) this.#state.namespaces.set(ns.metadata.name ?? "", copy(ns));
    for (const { pod, logs } of state.pods) this.#kubelet.restorePod(pod, logs);
    this.#state.events.push(...state.events.map(copy));
    this.objects.importAll(state.stored ?? []);
    for (const saved of state.jobs) this.#jobs.restore(saved);
  }

  /** Snapshot for tests: every object of the cluster (copies). */
  snapshot(): {
    namespaces: KubeObject[];
    jobs: JobObject[];
    pods: PodObject[];
    events: EventObject[];
    networkPolicies: KubeObject[];
    resourceQuotas: KubeObject[];
    limitRanges: KubeObject[];
    serviceAccounts: KubeObject[];
  } {
    return {
      namespaces: this.listNamespaces(),
      jobs: this.listJobs(undefined),
      pods: this.listPods(undefined),
      events: this.listEvents(undefined),
      networkPolicies: this.objects.list("networkpolicies", undefined),
      resourceQuotas: this.objects.list("resourcequotas", undefined),
      limitRanges: this.objects.list("limitranges", undefined),
      serviceAccounts: this.objects.list("serviceaccounts", undefined),
    };
  }
}
