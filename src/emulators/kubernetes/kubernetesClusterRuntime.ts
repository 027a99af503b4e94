import { randomInt, randomUUID } from "node:crypto";
import type { SimulatedCloud, SimulatedCluster } from "../simulatedCloud.js";
import { deriveClusterNodes, deriveRuntimeClasses, SANDBOX_RUNTIMES, type DerivedNode, type DerivedRuntimeClass } from "./deriveClusterNodes.js";
import { KubernetesApiError, type StatusCause } from "./kubernetesApiError.js";
import type { KubernetesEmulatorSettings } from "./kubernetesEmulatorSettings.js";
import {
  k8sTime,
  type Condition,
  type ContainerSpec,
  type ContainerStatus,
  type EventObject,
  type JobObject,
  type KubeObject,
  type PodObject,
  type PodSpec,
} from "./kubernetesObjects.js";
import type { KubernetesSchemaKind, KubernetesSchemaValidator } from "./kubernetesSchemaValidator.js";
import type { OutcomeScript, OutcomeScripts } from "./outcomeScripts.js";
import { parseQuantity } from "./parseQuantity.js";
import { parseContainerProgram, runProgram } from "./simulatedCommand.js";
import { invalidValue, requiredValue, unsupportedValue, validateDns1123Label, validateLabels, validateObjectMeta } from "./validateObjectMeta.js";

/** One log line of a container run. */
interface LogLine {
  timeMs: number;
  text: string;
}

interface ContainerLogs {
  current: LogLine[];
  previous: LogLine[] | undefined;
}

/** A pod with its simulated kubelet state. */
interface PodRecord {
  pod: PodObject;
  logs: Map<string, ContainerLogs>;
  /** Aborted when the pod is deleted: kills the simulated processes. */
  kill: AbortController;
  /** Aborted to cut a retry wait short (a node freed up, the cloud changed). */
  wake: AbortController;
  /** Called with (container, line) for each new line and (container, null) when the container ends. */
  logListeners: Set<(container: string, line: LogLine | null) => void>;
  node: DerivedNode | undefined;
  /** True once the pod is gone from the store. */
  removed: boolean;
}

interface JobRecord {
  job: JobObject;
  countedSucceeded: Set<string>;
  countedFailed: Set<string>;
  /** Simulated ms before which no new pod is created (back-off). */
  nextCreateAtMs: number;
  createFailures: number;
  timerPending: boolean;
  /** FailureTarget reason once decided. */
  failure: { reason: string; message: string } | undefined;
  foregroundDeleting: boolean;
  finished: boolean;
  /** A reconcile pass is queued (coalesces bursts of pod changes; avoids re-entrancy). */
  reconcileQueued: boolean;
}

/** Thrown into waits when a pod is killed. */
class PodKilled extends Error {}

const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const MAX_LOG_LINES = 20_000;
const MAX_EVENTS = 5_000;

/** Options of {@link KubernetesClusterRuntime.readLog}. */
export interface LogOptions {
  container?: string;
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
}

/** Job delete propagation (`propagationPolicy`). */
export type PropagationPolicy = "Foreground" | "Background" | "Orphan";

/**
 * The API objects and simulated controllers (scheduler, kubelet, job and TTL
 * controllers) of one simulated cluster. Methods throw `KubernetesApiError`
 * for what the apiserver would refuse; objects handed out are copies.
 */
export class KubernetesClusterRuntime {
  readonly #namespaces = new Map<string, KubeObject>();
  readonly #jobs = new Map<string, JobRecord>();
  readonly #pods = new Map<string, PodRecord>();
  readonly #events: EventObject[] = [];
  readonly #firstSeen = new Map<string, number>();
  readonly #closed = new AbortController();
  /** Recently deleted pods and jobs (for watches), with the resourceVersion of their deletion. */
  readonly #tombstones: Array<{ resource: "pods" | "jobs"; object: KubeObject }> = [];
  #resourceVersion = 100;

  constructor(
    readonly clusterKey: string,
    readonly cloud: SimulatedCloud,
    readonly settings: KubernetesEmulatorSettings,
    readonly scripts: OutcomeScripts,
    readonly schemas: KubernetesSchemaValidator,
  ) {
    const now = this.#nowMs();
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      this.#namespaces.set(name, this.#namespaceObject(name, now, randomUUID()));
    }
  }

  get cluster(): SimulatedCluster {
    const cluster = this.cloud.getCluster(this.clusterKey);
    if (!cluster) throw KubernetesApiError.noRoute();
    return cluster;
  }

  /** Current list resourceVersion. */
  get resourceVersion(): string {
    return String(this.#resourceVersion);
  }

  #nowMs(): number {
    return this.cloud.clock.nowMs();
  }

  #now(): string {
    return k8sTime(this.#nowMs());
  }

  #bump(object: KubeObject): void {
    object.metadata.resourceVersion = String(++this.#resourceVersion);
  }

  #tombstone(resource: "pods" | "jobs", object: KubeObject): void {
    const gone = copy(object);
    this.#bump(gone);
    this.#tombstones.push({ resource, object: gone });
    if (this.#tombstones.length > 1000) this.#tombstones.splice(0, this.#tombstones.length - 1000);
  }

  /** Pods or jobs deleted after resourceVersion `since` (for watch `DELETED` events). */
  deletedSince(resource: string, since: number): KubeObject[] {
    return this.#tombstones.filter((t) => t.resource === resource && Number(t.object.metadata.resourceVersion) > since).map((t) => copy(t.object));
  }

  /** Stops every simulated process and timer (emulator shutdown). Idempotent. */
  close(): void {
    this.#closed.abort();
    for (const rec of this.#pods.values()) rec.kill.abort();
  }

  /** Wakes pods waiting to be scheduled (the cloud's pools changed). */
  poke(): void {
    for (const rec of this.#pods.values()) rec.wake.abort();
  }

  // ---------------------------------------------------------------- timers

  /** Runs `fn` after `seconds` of simulated time unless the emulator closes first. */
  #after(seconds: number, fn: () => void): void {
    this.cloud.clock.sleep(seconds * 1000, this.#closed.signal).then(fn, () => undefined);
  }

  /** Sleeps `seconds` of simulated time; rejects with PodKilled when the pod is deleted. Returns early on wake. */
  async #podWait(rec: PodRecord, seconds: number, wakeable = false): Promise<void> {
    if (rec.kill.signal.aborted) throw new PodKilled();
    const signals = [rec.kill.signal, this.#closed.signal];
    if (wakeable) {
      rec.wake = new AbortController();
      signals.push(rec.wake.signal);
    }
    try {
      await this.cloud.clock.sleep(seconds * 1000, AbortSignal.any(signals));
    } catch {
      if (rec.kill.signal.aborted || this.#closed.signal.aborted) throw new PodKilled();
    }
  }

  // ---------------------------------------------------------------- validation

  /**
   * Decoding-level checks: unknown fields and wrong types are 400 like the
   * strict decoder; schema-required fields come back as causes, to be merged
   * with the semantic validation's (the apiserver reports them together).
   */
  #schemaCheck(kind: KubernetesSchemaKind, group: string, body: KubeObject): StatusCause[] {
    const violations = this.schemas.validate(kind, body);
    const unknown = violations.filter((v) => v.kind === "unknown");
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const version = group ? `${group}/v1` : "v1";
    if (unknown.length) {
      // What the apiserver's strict decoder answers (kubectl sends fieldValidation=Strict).
      throw KubernetesApiError.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((u) => u.message).join(", ")}`);
    }
    const typeErrors = violations.filter((v) => v.kind === "type");
    if (typeErrors.length) {
      const first = typeErrors[0];
      throw KubernetesApiError.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: json: cannot unmarshal value into Go struct field ${qualifiedKind}.${first?.field ?? ""}: ${first?.message ?? ""}`);
    }
    return violations.map((v) => (v.kind === "required" ? requiredValue(v.field) : invalidValue(v.field, valueAt(body, v.field), v.message)));
  }

  #checkBodyBasics(body: unknown, kind: string, apiVersion: string, namespace: string | undefined): KubeObject {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw KubernetesApiError.badRequest("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml");
    const object = body as KubeObject;
    if (object.kind !== undefined && object.kind !== kind) {
      throw KubernetesApiError.badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${kind})`);
    }
    if (object.apiVersion !== undefined && object.apiVersion !== apiVersion) {
      throw KubernetesApiError.badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    object.metadata ??= {};
    if (namespace !== undefined) {
      if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
        throw KubernetesApiError.badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
    }
    return object;
  }

  #requireNamespace(namespace: string): void {
    if (!this.#namespaces.has(namespace)) throw KubernetesApiError.notFound("namespaces", "", namespace);
  }

  #generateName(prefix: string, exists: (name: string) => boolean): string {
    for (;;) {
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
      const name = `${prefix}${suffix}`;
      if (!exists(name)) return name;
    }
  }

  // ---------------------------------------------------------------- namespaces

  #namespaceObject(name: string, nowMs: number, uid: string, labels: Record<string, string> = {}, annotations?: Record<string, string>): KubeObject {
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        uid,
        resourceVersion: String(++this.#resourceVersion),
        creationTimestamp: k8sTime(nowMs),
        labels: { ...labels, "kubernetes.io/metadata.name": name },
        ...(annotations ? { annotations } : {}),
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    };
  }

  listNamespaces(): KubeObject[] {
    return [...this.#namespaces.values()].map(copy);
  }

  getNamespace(name: string): KubeObject {
    const ns = this.#namespaces.get(name);
    if (!ns) throw KubernetesApiError.notFound("namespaces", "", name);
    return copy(ns);
  }

  /** POST a Namespace (names are DNS-1123 labels). */
  createNamespace(body: unknown, dryRun: boolean): KubeObject {
    const object = this.#checkBodyBasics(body, "Namespace", "v1", undefined);
    const causes = mergeCauses(this.#schemaCheck("Namespace", "", object), validateObjectMeta(object.metadata, "label"));
    if (causes.length) throw KubernetesApiError.invalid("Namespace", "", object.metadata.name ?? "", causes);
    const name = object.metadata.name ?? this.#generateName(object.metadata.generateName ?? "", (n) => this.#namespaces.has(n));
    if (this.#namespaces.has(name)) throw KubernetesApiError.alreadyExists("namespaces", "", name);
    const ns = this.#namespaceObject(name, this.#nowMs(), randomUUID(), object.metadata.labels, object.metadata.annotations);
    if (!dryRun) this.#namespaces.set(name, ns);
    return copy(ns);
  }

  // ---------------------------------------------------------------- nodes & runtime classes

  nodes(): DerivedNode[] {
    return deriveClusterNodes(this.cluster, this.settings, this.#nowMs(), this.#firstSeen);
  }

  runtimeClasses(): DerivedRuntimeClass[] {
    return deriveRuntimeClasses(this.cluster, this.#nowMs(), this.#firstSeen);
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
    return this.#events.filter((e) => namespace === undefined || e.metadata.namespace === namespace).map(copy);
  }

  /** Records an event, or bumps `count` of an identical one (as the event recorder aggregates). */
  #event(about: KubeObject, type: "Normal" | "Warning", reason: string, message: string, component: string): void {
    const uid = about.metadata.uid;
    const now = this.#now();
    const existing = this.#events.find((e) => e.involvedObject.uid === uid && e.reason === reason && e.message === message);
    if (existing) {
      existing.count++;
      existing.lastTimestamp = now;
      this.#bump(existing);
      return;
    }
    const namespace = about.metadata.namespace ?? "default";
    const event: EventObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${about.metadata.name ?? ""}.${randomUUID().replace(/-/g, "").slice(0, 16)}`,
        namespace,
        uid: randomUUID(),
        resourceVersion: "0",
        creationTimestamp: now,
      },
      involvedObject: {
        kind: about.kind ?? "",
        namespace,
        name: about.metadata.name ?? "",
        ...(uid ? { uid } : {}),
        apiVersion: about.apiVersion ?? "v1",
        ...(about.metadata.resourceVersion ? { resourceVersion: about.metadata.resourceVersion } : {}),
      },
      reason,
      message,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      reportingComponent: component,
      reportingInstance: "",
    };
    this.#bump(event);
    this.#events.push(event);
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
  }

  // ---------------------------------------------------------------- pods: API

  listPods(namespace: string | undefined): PodObject[] {
    return [...this.#pods.values()].filter((r) => namespace === undefined || r.pod.metadata.namespace === namespace).map((r) => copy(r.pod));
  }

  getPod(namespace: string, name: string): PodObject {
    return copy(this.#podRecord(namespace, name).pod);
  }

  #podRecord(namespace: string, name: string): PodRecord {
    const rec = this.#pods.get(`${namespace}/${name}`);
    if (!rec) throw KubernetesApiError.notFound("pods", "", name);
    return rec;
  }

  /** POST a Pod: schema and semantic validation, RuntimeClass admission, then the simulated kubelet takes over. */
  createPod(namespace: string, body: unknown, dryRun: boolean): PodObject {
    const object = this.#checkBodyBasics(body, "Pod", "v1", namespace) as PodObject;
    const causes = mergeCauses(this.#schemaCheck("Pod", "", object), [...validateObjectMeta(object.metadata, "subdomain"), ...validatePodSpec(object.spec, "spec", ["Always", "OnFailure", "Never"])]);
    if (causes.length) throw KubernetesApiError.invalid("Pod", "", object.metadata.name ?? object.metadata.generateName ?? "", causes);
    this.#requireNamespace(namespace);
    const name = object.metadata.name ?? this.#generateName(object.metadata.generateName ?? "", (n) => this.#pods.has(`${namespace}/${n}`));
    if (this.#pods.has(`${namespace}/${name}`)) throw KubernetesApiError.alreadyExists("pods", "", name);
    const pod = this.#admitPod(namespace, { ...object, metadata: { ...object.metadata, name } }, name);
    if (dryRun) return copy(pod);
    return copy(this.#startPod(pod));
  }

  /**
   * RuntimeClass admission plus apiserver defaulting. `displayName` is what
   * the Forbidden message names (for a Job's pods: the generateName prefix).
   */
  #admitPod(namespace: string, object: PodObject, displayName: string): PodObject {
    const spec: PodSpec = structuredClone(object.spec);
    if (spec.runtimeClassName) {
      const rc = this.runtimeClasses().find((r) => r.name === spec.runtimeClassName);
      if (!rc) throw KubernetesApiError.forbidden("pods", "", displayName, `pod rejected: RuntimeClass "${spec.runtimeClassName}" not found`);
      // The RuntimeClass admission plugin merges the class's scheduling constraints into the pod.
      spec.nodeSelector = { ...(spec.nodeSelector ?? {}), ...rc.nodeSelector };
    }
    const nowMs = this.#nowMs();
    spec.restartPolicy ??= "Always";
    spec.dnsPolicy ??= "ClusterFirst";
    spec.schedulerName ??= "default-scheduler";
    spec.terminationGracePeriodSeconds ??= 30;
    spec.securityContext ??= {};
    spec.serviceAccountName ??= "default";
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.enableServiceLinks ??= true;
    spec.priority ??= 0;
    spec.preemptionPolicy ??= "PreemptLowerPriority";
    spec.tolerations = [
      ...(spec.tolerations ?? []),
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ];
    for (const c of spec.containers) defaultContainer(c);
    for (const c of spec.initContainers ?? []) defaultContainer(c);
    const pod: PodObject = {
      ...object,
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...object.metadata,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(++this.#resourceVersion),
        creationTimestamp: k8sTime(nowMs),
      },
      spec,
      status: { phase: "Pending", qosClass: qosClass(spec) },
    };
    delete pod.metadata.generateName;
    return pod;
  }

  #startPod(pod: PodObject): PodObject {
    const rec: PodRecord = {
      pod,
      logs: new Map(pod.spec.containers.map((c) => [c.name, { current: [], previous: undefined }])),
      kill: new AbortController(),
      wake: new AbortController(),
      logListeners: new Set(),
      node: undefined,
      removed: false,
    };
    this.#pods.set(`${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`, rec);
    this.#runPod(rec).catch(() => undefined);
    return pod;
  }

  /**
   * DELETE a pod: it turns `Terminating` (deletionTimestamp set, processes
   * killed) and disappears after the grace period (capped by
   * `settings.terminationSeconds`). Idempotent while terminating.
   */
  deletePod(namespace: string, name: string, gracePeriodSeconds: number | undefined, dryRun = false): PodObject {
    const rec = this.#podRecord(namespace, name);
    if (dryRun) return copy(rec.pod);
    this.#terminatePod(rec, gracePeriodSeconds);
    return copy(rec.pod);
  }

  #terminatePod(rec: PodRecord, gracePeriodSeconds?: number): void {
    if (rec.pod.metadata.deletionTimestamp || rec.removed) return;
    const grace = gracePeriodSeconds ?? rec.pod.spec.terminationGracePeriodSeconds ?? 30;
    const terminal = rec.pod.status?.phase === "Succeeded" || rec.pod.status?.phase === "Failed";
    const wait = terminal || !rec.node ? 0 : Math.min(grace, this.settings.terminationSeconds);
    rec.pod.metadata.deletionTimestamp = k8sTime(this.#nowMs() + grace * 1000);
    rec.pod.metadata.deletionGracePeriodSeconds = grace;
    this.#bump(rec.pod);
    if (rec.node && !terminal) this.#event(rec.pod, "Normal", "Killing", `Stopping container ${rec.pod.spec.containers[0]?.name ?? ""}`, "kubelet");
    rec.kill.abort();
    this.#after(wait, () => this.#removePod(rec));
    this.#notifyOwner(rec);
  }

  #removePod(rec: PodRecord): void {
    if (rec.removed) return;
    rec.removed = true;
    rec.kill.abort();
    this.#tombstone("pods", rec.pod);
    this.#pods.delete(`${rec.pod.metadata.namespace ?? ""}/${rec.pod.metadata.name ?? ""}`);
    for (const listener of rec.logListeners) for (const c of rec.logs.keys()) listener(c, null);
    this.#notifyOwner(rec);
    // Freed capacity: pending pods may fit now.
    this.poke();
  }

  // ---------------------------------------------------------------- pods: logs

  /** Reads a container's log as the kubelet would serve it (`text/plain`). */
  readLog(namespace: string, name: string, options: LogOptions): string {
    const { rec, container } = this.#logTarget(namespace, name, options);
    const logs = rec.logs.get(container);
    let lines = options.previous ? logs?.previous : logs?.current;
    if (options.previous && !lines) throw KubernetesApiError.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    lines ??= [];
    if (options.sinceSeconds !== undefined) {
      const since = this.#nowMs() - options.sinceSeconds * 1000;
      lines = lines.filter((l) => l.timeMs >= since);
    }
    if (options.tailLines !== undefined) lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    let text = lines.map((l) => formatLogLine(l, options.timestamps === true)).join("");
    if (options.limitBytes !== undefined) text = Buffer.from(text).subarray(0, options.limitBytes).toString();
    return text;
  }

  /**
   * Follows a container log: `onLine` gets the existing lines (after
   * `tailLines`) then new ones; `onEnd` fires when the container stops or the
   * pod goes away. Returns an unsubscribe function.
   */
  followLog(namespace: string, name: string, options: LogOptions, onText: (text: string) => void, onEnd: () => void): () => void {
    const { rec, container } = this.#logTarget(namespace, name, options);
    const initial = this.readLog(namespace, name, { ...options, limitBytes: undefined });
    if (initial) onText(initial);
    const status = rec.pod.status?.containerStatuses?.find((c) => c.name === container);
    if (rec.removed || (status?.state.terminated && !willRestart(rec.pod.spec, status.state.terminated.exitCode))) {
      onEnd();
      return () => undefined;
    }
    const listener = (c: string, line: LogLine | null) => {
      if (c !== container) return;
      if (line) onText(formatLogLine(line, options.timestamps === true));
      else {
        rec.logListeners.delete(listener);
        onEnd();
      }
    };
    rec.logListeners.add(listener);
    return () => rec.logListeners.delete(listener);
  }

  #logTarget(namespace: string, name: string, options: LogOptions): { rec: PodRecord; container: string } {
    const rec = this.#podRecord(namespace, name);
    const names = rec.pod.spec.containers.map((c) => c.name);
    let container = options.container;
    if (container === undefined || container === "") {
      if (names.length !== 1) throw KubernetesApiError.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`);
      container = names[0] ?? "";
    }
    if (!names.includes(container)) throw KubernetesApiError.badRequest(`container ${container} is not valid for pod ${name}`);
    const status = rec.pod.status?.containerStatuses?.find((c) => c.name === container);
    const logs = rec.logs.get(container);
    if (!options.previous && (!status || (status.state.waiting && !status.lastState.terminated && (logs?.current.length ?? 0) === 0))) {
      const reason = status?.state.waiting?.reason ?? "ContainerCreating";
      const why = reason === "ErrImagePull" || reason === "ImagePullBackOff" ? "trying and failing to pull image" : reason;
      throw KubernetesApiError.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
    }
    return { rec, container };
  }

  #writeLog(rec: PodRecord, container: string, text: string): void {
    const logs = rec.logs.get(container);
    if (!logs) return;
    const line = { timeMs: this.#nowMs(), text };
    logs.current.push(line);
    if (logs.current.length > MAX_LOG_LINES) logs.current.splice(0, logs.current.length - MAX_LOG_LINES);
    for (const listener of rec.logListeners) listener(container, line);
  }

  // ---------------------------------------------------------------- pods: scheduler + kubelet

  #isSandboxed(pod: PodObject): boolean {
    const rc = pod.spec.runtimeClassName;
    return rc !== undefined && Object.values(SANDBOX_RUNTIMES).some((s) => s.runtimeClass === rc);
  }

  /** CPU (cores) and memory (bytes) a pod takes on a node: the Kata VM size for sandboxed pods, its requests otherwise. */
  #demand(pod: PodObject): { cpu: number; memory: number } {
    let cpu = 0;
    let memory = 0;
    const sandboxed = this.#isSandboxed(pod);
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
      cpu += this.settings.sandboxVmCpu;
      memory += this.settings.sandboxVmMemoryGiB * 2 ** 30;
    }
    return { cpu, memory };
  }

  /** Picks a node for the pod, or explains (as the scheduler's FailedScheduling message) why none fits. */
  #schedule(rec: PodRecord): { node: DerivedNode } | { message: string } {
    const nodes = this.nodes();
    if (nodes.length === 0) return { message: "no nodes available to schedule pods" };
    const used = new Map<string, { cpu: number; memory: number }>();
    for (const other of this.#pods.values()) {
      const phase = other.pod.status?.phase;
      if (other === rec || !other.node || other.removed || phase === "Succeeded" || phase === "Failed") continue;
      const u = used.get(other.node.name) ?? { cpu: 0, memory: 0 };
      const d = this.#demand(other.pod);
      used.set(other.node.name, { cpu: u.cpu + d.cpu, memory: u.memory + d.memory });
    }
    const demand = this.#demand(rec.pod);
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
        (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !(rec.pod.spec.tolerations ?? []).some((tol) => tolerates(tol, t)),
      );
      if (untolerated) {
        add(`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ""}}`);
        continue;
      }
      const u = used.get(node.name) ?? { cpu: 0, memory: 0 };
      const freeCpu = node.allocatableCpu - u.cpu;
      const freeMemory = node.allocatableMemory - u.memory;
      let fits = true;
      if (demand.cpu > freeCpu + 1e-9) {
        add("Insufficient cpu");
        fits = false;
      }
      if (demand.memory > freeMemory) {
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
    return { message: `0/${n} nodes are available: ${parts.join(", ")}. preemption: 0/${n} nodes are available: ${preemption.sort().join(", ")}.` };
  }

  #setCondition(conditions: Condition[], type: string, status: Condition["status"], reason?: string, message?: string): void {
    const existing = conditions.find((c) => c.type === type);
    const now = this.#now();
    if (existing) {
      if (existing.status !== status) existing.lastTransitionTime = now;
      existing.status = status;
      if (reason !== undefined) existing.reason = reason;
      else delete existing.reason;
      if (message !== undefined) existing.message = message;
      else delete existing.message;
      return;
    }
    // The kubelet sends `lastProbeTime: null`, which the schema (a string) does not allow; omitting it is equivalent.
    conditions.push({ type, status, lastTransitionTime: now, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });
  }

  #changed(rec: PodRecord): void {
    this.#bump(rec.pod);
    this.#notifyOwner(rec);
  }

  /** The simulated scheduler + kubelet for one pod; ends when the pod is terminal or deleted. */
  async #runPod(rec: PodRecord): Promise<void> {
    const pod = rec.pod;
    const status = pod.status ?? { phase: "Pending" };
    pod.status = status;
    status.conditions = [];
    try {
      await this.#podWait(rec, this.settings.scheduleSeconds);
      // Scheduling: retried until a node fits, as the scheduler's queue would.
      for (;;) {
        const result = this.#schedule(rec);
        if ("node" in result) {
          rec.node = result.node;
          break;
        }
        this.#setCondition(status.conditions, "PodScheduled", "False", "Unschedulable", result.message);
        this.#changed(rec);
        this.#event(pod, "Warning", "FailedScheduling", result.message, "default-scheduler");
        await this.#podWait(rec, this.settings.retrySeconds, true);
      }
      const node = rec.node;
      pod.spec.nodeName = node.name;
      this.#setCondition(status.conditions, "PodScheduled", "True");
      this.#event(pod, "Normal", "Scheduled", `Successfully assigned ${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""} to ${node.name}`, "default-scheduler");
      const hostIP = (node.object.status as { addresses: Array<{ address: string }> }).addresses[0]?.address ?? "10.224.0.4";
      status.hostIP = hostIP;
      status.hostIPs = [{ ip: hostIP }];
      status.startTime = this.#now();
      this.#setCondition(status.conditions, "PodReadyToStartContainers", "False");
      this.#setCondition(status.conditions, "Initialized", "True");
      this.#setCondition(status.conditions, "Ready", "False", "ContainersNotReady", `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(" ")}]`);
      this.#setCondition(status.conditions, "ContainersReady", "False", "ContainersNotReady", `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(" ")}]`);
      status.containerStatuses = pod.spec.containers.map((c) => ({
        name: c.name,
        image: c.image ?? "",
        imageID: "",
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: "ContainerCreating" } },
        lastState: {},
      }));
      this.#changed(rec);

      const sandboxed = this.#isSandboxed(pod) && node.sandbox;
      if (sandboxed && pod.spec.hostNetwork === true) {
        // Kata cannot share the host network namespace: sandbox creation fails forever.
        for (;;) {
          this.#event(
            pod,
            "Warning",
            "FailedCreatePodSandBox",
            `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: host networking (hostNetwork: true) is not supported by the Kata VM sandbox runtime ${pod.spec.runtimeClassName ?? ""}`,
            "kubelet",
          );
          await this.#podWait(rec, this.settings.retrySeconds);
        }
      }
      await this.#podWait(rec, sandboxed ? this.settings.sandboxCreateSeconds : this.settings.containerCreateSeconds);
      const podIP = `10.244.${randomInt(0, 255)}.${randomInt(2, 254)}`;
      status.podIP = podIP;
      status.podIPs = [{ ip: podIP }];
      this.#setCondition(status.conditions, "PodReadyToStartContainers", "True");
      const kernel = sandboxed ? this.settings.guestKernel : node.kernel;
      const codes = await Promise.all(pod.spec.containers.map((c, i) => this.#runContainer(rec, c, i, kernel)));
      status.phase = codes.every((c) => c === 0) ? "Succeeded" : "Failed";
      this.#podFinished(rec);
    } catch (error) {
      if (!(error instanceof PodKilled)) throw error;
      this.#podKilled(rec);
    }
  }

  /** Marks the pod terminal: Ready/ContainersReady False with reason PodCompleted. */
  #podFinished(rec: PodRecord): void {
    const status = rec.pod.status;
    if (!status?.conditions) return;
    this.#setCondition(status.conditions, "PodReadyToStartContainers", "False");
    this.#setCondition(status.conditions, "Ready", "False", "PodCompleted");
    this.#setCondition(status.conditions, "ContainersReady", "False", "PodCompleted");
    this.#changed(rec);
  }

  /** A deleted pod's processes were killed (SIGKILL after the grace period: exit 137). */
  #podKilled(rec: PodRecord): void {
    const status = rec.pod.status;
    if (!status || this.#closed.signal.aborted) return;
    const now = this.#now();
    let ran = false;
    for (const cs of status.containerStatuses ?? []) {
      if (cs.state.running) {
        ran = true;
        cs.state = { terminated: { exitCode: 137, reason: "Error", startedAt: cs.state.running.startedAt ?? now, finishedAt: now, containerID: cs.containerID ?? "" } };
        cs.ready = false;
        cs.started = false;
      } else if (cs.state.terminated) ran = true;
    }
    for (const listener of rec.logListeners) for (const c of rec.logs.keys()) listener(c, null);
    if (status.phase === "Running" || (status.phase === "Pending" && ran)) {
      status.phase = "Failed";
      this.#podFinished(rec);
    } else this.#changed(rec);
  }

  /** Runs one container (with restarts per restartPolicy); resolves with its final exit code. */
  async #runContainer(rec: PodRecord, container: ContainerSpec, index: number, kernel: string): Promise<number> {
    const pod = rec.pod;
    const status = pod.status as NonNullable<PodObject["status"]>;
    const cs = (status.containerStatuses as ContainerStatus[])[index] as ContainerStatus;
    const image = container.image ?? "";
    const script = this.scripts.take({ clusterKey: this.clusterKey, namespace: pod.metadata.namespace ?? "", podName: pod.metadata.name ?? "", container: container.name, image });
    let attempt = 0;
    for (;;) {
      if (script?.reason === "ErrImagePull" || script?.reason === "ImagePullBackOff") await this.#imagePullFails(rec, cs, image, script);
      this.#event(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`, "kubelet");
      this.#event(pod, "Normal", "Created", `Created container ${container.name}`, "kubelet");
      this.#event(pod, "Normal", "Started", `Started container ${container.name}`, "kubelet");
      const startedAt = this.#now();
      cs.containerID = `containerd://${randomUUID().replace(/-/g, "")}${randomUUID().replace(/-/g, "")}`;
      cs.imageID = `${image.includes("/") ? "" : "docker.io/library/"}${image.split(":")[0] ?? image}@sha256:${"0".repeat(64)}`;
      cs.state = { running: { startedAt } };
      cs.ready = true;
      cs.started = true;
      status.phase = "Running";
      this.#refreshReadiness(rec);
      this.#changed(rec);
      let exitCode: number;
      let reason: string;
      if (script) {
        for (const line of script.logLines ?? []) this.#writeLog(rec, container.name, line);
        await this.#podWait(rec, script.durationSeconds ?? 0);
        exitCode = script.exitCode ?? (script.reason === "OOMKilled" ? 137 : 0);
        reason = script.reason === "OOMKilled" ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
      } else {
        const program = parseContainerProgram(container.command, container.args, image);
        exitCode = await runProgram(program, {
          writeLine: (line) => this.#writeLog(rec, container.name, line),
          sleep: (seconds) => this.#podWait(rec, seconds),
          kernel,
          hostname: pod.metadata.name ?? "",
        });
        reason = exitCode === 0 ? "Completed" : "Error";
      }
      const finishedAt = this.#now();
      const terminated = { exitCode, reason, startedAt, finishedAt, containerID: cs.containerID };
      cs.state = { terminated };
      cs.ready = false;
      cs.started = false;
      for (const listener of rec.logListeners) listener(container.name, null);
      if (!willRestart(pod.spec, exitCode)) {
        this.#refreshReadiness(rec);
        return exitCode;
      }
      // restartPolicy Always/OnFailure: CrashLoopBackOff with the kubelet's doubling delay (10 s … 5 min).
      attempt++;
      const delay = Math.min(300, 10 * 2 ** (attempt - 1));
      cs.lastState = { terminated };
      cs.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off ${delay}s restarting failed container=${container.name} pod=${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? ""}(${pod.metadata.uid ?? ""})` } };
      cs.restartCount++;
      this.#refreshReadiness(rec);
      this.#changed(rec);
      this.#event(pod, "Warning", "BackOff", "Back-off restarting failed container", "kubelet");
      await this.#podWait(rec, delay);
      const logs = rec.logs.get(container.name);
      if (logs) {
        logs.previous = logs.current;
        logs.current = [];
      }
    }
  }

  /** An image that never pulls: ErrImagePull ↔ ImagePullBackOff until the pod is deleted. */
  async #imagePullFails(rec: PodRecord, cs: ContainerStatus, image: string, script: OutcomeScript): Promise<never> {
    const message = script.message ?? `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
    for (;;) {
      this.#event(rec.pod, "Normal", "Pulling", `Pulling image "${image}"`, "kubelet");
      this.#event(rec.pod, "Warning", "Failed", `Failed to pull image "${image}": ${message}`, "kubelet");
      this.#event(rec.pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet");
      cs.state = { waiting: { reason: "ErrImagePull", message } };
      this.#changed(rec);
      await this.#podWait(rec, 1);
      cs.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}": ErrImagePull: ${message}` } };
      this.#event(rec.pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, "kubelet");
      this.#event(rec.pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet");
      this.#changed(rec);
      await this.#podWait(rec, this.settings.retrySeconds);
    }
  }

  #refreshReadiness(rec: PodRecord): void {
    const status = rec.pod.status;
    if (!status?.conditions) return;
    const statuses = status.containerStatuses ?? [];
    const unready = statuses.filter((c) => !c.ready).map((c) => c.name);
    if (unready.length === 0) {
      this.#setCondition(status.conditions, "ContainersReady", "True");
      this.#setCondition(status.conditions, "Ready", "True");
    } else {
      const msg = `containers with unready status: [${unready.join(" ")}]`;
      this.#setCondition(status.conditions, "ContainersReady", "False", "ContainersNotReady", msg);
      this.#setCondition(status.conditions, "Ready", "False", "ContainersNotReady", msg);
    }
  }

  // ---------------------------------------------------------------- jobs: API

  listJobs(namespace: string | undefined): JobObject[] {
    return [...this.#jobs.values()].filter((r) => namespace === undefined || r.job.metadata.namespace === namespace).map((r) => copy(r.job));
  }

  getJob(namespace: string, name: string): JobObject {
    return copy(this.#jobRecord(namespace, name).job);
  }

  #jobRecord(namespace: string, name: string): JobRecord {
    const rec = this.#jobs.get(`${namespace}/${name}`);
    if (!rec) throw KubernetesApiError.notFound("jobs", "batch", name);
    return rec;
  }

  /** POST a Job: validation, defaulting (selector, labels, backoffLimit 6, …), then the job controller starts. */
  createJob(namespace: string, body: unknown, dryRun: boolean): JobObject {
    const object = this.#checkBodyBasics(body, "Job", "batch/v1", namespace) as JobObject;
    const schemaCauses = this.#schemaCheck("Job", "batch", object);
    if (!object.spec?.template?.spec) throw KubernetesApiError.invalid("Job", "batch", object.metadata.name ?? "", schemaCauses.length ? schemaCauses : [requiredValue("spec.template")]);
    const spec = object.spec;
    const causes = validateObjectMeta(object.metadata, "subdomain");
    const name = object.metadata.name ?? this.#generateName(object.metadata.generateName ?? "", (n) => this.#jobs.has(`${namespace}/${n}`));
    // The job-name label on the pod template carries the name, and label values are ≤ 63 characters.
    if (name.length > 63 && causes.length === 0) causes.push(invalidValue("spec.template.labels", name, "must be no more than 63 characters"));
    causes.push(...validateLabels("spec.template.metadata.labels", spec.template.metadata?.labels));
    causes.push(...validatePodSpec(spec.template.spec, "spec.template.spec", ["OnFailure", "Never"]));
    for (const field of ["backoffLimit", "completions", "parallelism", "ttlSecondsAfterFinished"] as const) {
      const value = spec[field];
      if (value !== undefined && value < 0) causes.push(invalidValue(`spec.${field}`, value, "must be greater than or equal to 0"));
    }
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0) {
      causes.push(invalidValue("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds, "must be greater than 0"));
    }
    if (spec.selector && spec.manualSelector !== true) {
      causes.push(invalidValue("spec.selector", spec.selector, "`selector` will be auto-generated"));
    }
    const allCauses = mergeCauses(schemaCauses, causes);
    if (allCauses.length) throw KubernetesApiError.invalid("Job", "batch", name, allCauses);
    this.#requireNamespace(namespace);
    if (this.#jobs.has(`${namespace}/${name}`)) throw KubernetesApiError.alreadyExists("jobs", "batch", name);

    const uid = randomUUID();
    const controllerLabels = {
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name,
    };
    const job: JobObject = {
      ...object,
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        ...object.metadata,
        name,
        namespace,
        uid,
        resourceVersion: String(++this.#resourceVersion),
        generation: 1,
        creationTimestamp: this.#now(),
        labels: { ...controllerLabels, ...(object.metadata.labels ?? {}) },
      },
      spec: {
        ...spec,
        parallelism: spec.parallelism ?? 1,
        completions: spec.completions ?? 1,
        backoffLimit: spec.backoffLimit ?? 6,
        completionMode: spec.completionMode ?? "NonIndexed",
        suspend: spec.suspend ?? false,
        podReplacementPolicy: spec.podReplacementPolicy ?? "TerminatingOrFailed",
        manualSelector: spec.manualSelector,
        selector: spec.selector ?? { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
        template: {
          ...spec.template,
          metadata: { ...(spec.template.metadata ?? {}), labels: { ...(spec.template.metadata?.labels ?? {}), ...controllerLabels } },
          spec: defaultedPodSpec(spec.template.spec),
        },
      },
      status: {},
    };
    if (job.metadata.generateName) delete job.metadata.generateName;
    if (job.spec.manualSelector === undefined) delete job.spec.manualSelector;
    if (dryRun) return copy(job);
    const rec: JobRecord = {
      job,
      countedSucceeded: new Set(),
      countedFailed: new Set(),
      nextCreateAtMs: 0,
      createFailures: 0,
      timerPending: false,
      failure: undefined,
      foregroundDeleting: false,
      finished: false,
      reconcileQueued: false,
    };
    this.#jobs.set(`${namespace}/${name}`, rec);
    if (!job.spec.suspend) {
      job.status = { startTime: this.#now(), active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {} };
      const deadline = job.spec.activeDeadlineSeconds;
      if (deadline !== undefined) this.#after(deadline, () => this.#queueReconcile(rec));
    }
    this.#reconcileJob(rec);
    return copy(job);
  }

  /**
   * DELETE a Job. `Background`: the Job goes now, its pods are deleted
   * afterwards. `Foreground`: the Job stays (deletionTimestamp, finalizer
   * `foregroundDeletion`) until its pods are gone. `Orphan` (the batch/v1
   * default when no policy is given): the pods stay, without owner.
   * Returns the Job when it still exists, else `undefined`.
   */
  deleteJob(namespace: string, name: string, policy: PropagationPolicy, dryRun = false): JobObject | undefined {
    const rec = this.#jobRecord(namespace, name);
    if (dryRun) return copy(rec.job);
    const pods = this.#podsOf(rec);
    if (policy === "Foreground") {
      if (!rec.foregroundDeleting) {
        rec.foregroundDeleting = true;
        rec.job.metadata.deletionTimestamp = this.#now();
        rec.job.metadata.deletionGracePeriodSeconds = 0;
        rec.job.metadata.finalizers = [...(rec.job.metadata.finalizers ?? []), "foregroundDeletion"];
        this.#bump(rec.job);
        for (const pod of pods) this.#terminatePod(pod);
      }
      this.#finishForeground(rec);
      return this.#jobs.has(`${namespace}/${name}`) ? copy(rec.job) : undefined;
    }
    this.#jobs.delete(`${namespace}/${name}`);
    this.#tombstone("jobs", rec.job);
    rec.finished = true;
    for (const pod of pods) {
      if (policy === "Background") this.#terminatePod(pod);
      else {
        delete pod.pod.metadata.ownerReferences;
        this.#bump(pod.pod);
      }
    }
    return undefined;
  }

  #finishForeground(rec: JobRecord): void {
    if (!rec.foregroundDeleting) return;
    if (this.#podsOf(rec).length === 0) {
      this.#jobs.delete(`${rec.job.metadata.namespace ?? ""}/${rec.job.metadata.name ?? ""}`);
      this.#tombstone("jobs", rec.job);
      rec.finished = true;
    }
  }

  #podsOf(rec: JobRecord): PodRecord[] {
    const uid = rec.job.metadata.uid;
    return [...this.#pods.values()].filter((p) => !p.removed && p.pod.metadata.ownerReferences?.some((o) => o.uid === uid));
  }

  #notifyOwner(pod: PodRecord): void {
    const owner = pod.pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Job");
    if (!owner) return;
    const rec = [...this.#jobs.values()].find((j) => j.job.metadata.uid === owner.uid);
    if (rec) this.#queueReconcile(rec);
  }

  /** Runs the job controller for `rec` once the current call stack is done. */
  #queueReconcile(rec: JobRecord): void {
    if (rec.reconcileQueued) return;
    rec.reconcileQueued = true;
    queueMicrotask(() => {
      rec.reconcileQueued = false;
      this.#reconcileJob(rec);
    });
  }

  // ---------------------------------------------------------------- jobs: controller

  /** One pass of the job controller (synchronous; timers call it again). Idempotent. */
  #reconcileJob(rec: JobRecord): void {
    const job = rec.job;
    if (!this.#jobs.has(`${job.metadata.namespace ?? ""}/${job.metadata.name ?? ""}`)) return;
    if (rec.foregroundDeleting) {
      this.#finishForeground(rec);
      return;
    }
    if (rec.finished || job.spec.suspend) return;
    const status = (job.status ??= {});
    const pods = this.#podsOf(rec);
    const nowMs = this.#nowMs();
    let changed = false;

    // Count terminal pods (and pods deleted before finishing: they count as failed).
    for (const p of pods) {
      const uid = p.pod.metadata.uid ?? "";
      const phase = p.pod.status?.phase;
      if (phase === "Succeeded" && !rec.countedSucceeded.has(uid)) {
        rec.countedSucceeded.add(uid);
        changed = true;
      } else if ((phase === "Failed" || p.pod.metadata.deletionTimestamp) && phase !== "Succeeded" && !rec.countedFailed.has(uid)) {
        rec.countedFailed.add(uid);
        changed = true;
        rec.nextCreateAtMs = nowMs + Math.min(360, this.settings.jobBackoffSeconds * 2 ** (rec.countedFailed.size - 1)) * 1000;
      }
    }
    const active = pods.filter((p) => !p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed");
    const terminating = pods.filter((p) => p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed");
    const restarts = active.reduce((sum, p) => sum + (p.pod.status?.containerStatuses ?? []).reduce((s, c) => s + c.restartCount, 0), 0);
    const succeeded = rec.countedSucceeded.size;
    const failed = rec.countedFailed.size;
    const completions = job.spec.completions ?? 1;
    const conditions = (status.conditions ??= []);

    if (!rec.failure && succeeded < completions) {
      const deadline = job.spec.activeDeadlineSeconds;
      const started = status.startTime ? Date.parse(status.startTime) : nowMs;
      if (deadline !== undefined && nowMs >= started + deadline * 1000) {
        rec.failure = { reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
      } else if (failed + restarts > (job.spec.backoffLimit ?? 6)) {
        rec.failure = { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" };
      }
      if (rec.failure) {
        this.#setJobCondition(conditions, "FailureTarget", rec.failure.reason, rec.failure.message);
        for (const p of active) {
          this.#terminatePod(p);
          this.#event(job, "Normal", "SuccessfulDelete", `Deleted pod: ${p.pod.metadata.name ?? ""}`, "job-controller");
        }
        changed = true;
      }
    }

    if (rec.failure) {
      if (this.#podsOf(rec).every((p) => p.pod.status?.phase === "Succeeded" || p.pod.status?.phase === "Failed" || p.removed)) {
        this.#setJobCondition(conditions, "Failed", rec.failure.reason, rec.failure.message);
        this.#event(job, "Warning", rec.failure.reason, rec.failure.message, "job-controller");
        this.#jobFinished(rec);
        changed = true;
      }
    } else if (succeeded >= completions) {
      if (!conditions.some((c) => c.type === "SuccessCriteriaMet")) {
        this.#setJobCondition(conditions, "SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods");
        changed = true;
      }
      for (const p of active) this.#terminatePod(p);
      if (active.length === 0 && terminating.length === 0) {
        this.#setJobCondition(conditions, "Complete", "CompletionsReached", "Reached expected number of succeeded pods");
        status.completionTime = this.#now();
        this.#event(job, "Normal", "Completed", "Job completed", "job-controller");
        this.#jobFinished(rec);
        changed = true;
      }
    } else {
      const want = Math.min(job.spec.parallelism ?? 1, completions - succeeded) - active.length;
      if (want > 0) {
        if (nowMs < rec.nextCreateAtMs) {
          if (!rec.timerPending) {
            rec.timerPending = true;
            this.#after((rec.nextCreateAtMs - nowMs) / 1000, () => {
              rec.timerPending = false;
              this.#queueReconcile(rec);
            });
          }
        } else {
          for (let i = 0; i < want; i++) changed = this.#createJobPod(rec) || changed;
        }
      }
    }

    const live = this.#podsOf(rec);
    const nowActive = live.filter((p) => !p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed");
    const counts = {
      active: nowActive.length,
      ready: nowActive.filter((p) => p.pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length,
      terminating: live.filter((p) => p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed").length,
    };
    if (counts.active !== (status.active ?? 0) || counts.ready !== status.ready || counts.terminating !== status.terminating) changed = true;
    // Like the real status: zero counters are omitted, ready/terminating are always present.
    if (counts.active) status.active = counts.active;
    else delete status.active;
    if (succeeded) status.succeeded = succeeded;
    if (failed) status.failed = failed;
    status.ready = counts.ready;
    status.terminating = counts.terminating;
    status.uncountedTerminatedPods = {};
    if (conditions.length === 0) delete status.conditions;
    if (changed) this.#bump(job);
  }

  #setJobCondition(conditions: Condition[], type: string, reason: string, message: string): void {
    if (conditions.some((c) => c.type === type)) return;
    const now = this.#now();
    conditions.push({ type, status: "True", lastProbeTime: now, lastTransitionTime: now, reason, message });
  }

  #jobFinished(rec: JobRecord): void {
    rec.finished = true;
    const ttl = rec.job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    // The TTL-after-finished controller deletes the Job with Background propagation.
    this.#after(ttl, () => {
      const { namespace = "", name = "" } = rec.job.metadata;
      if (this.#jobs.get(`${namespace}/${name}`) === rec) this.deleteJob(namespace, name, "Background");
    });
  }

  /** Creates one pod from the template; returns false (and records FailedCreate) when admission refuses it. */
  #createJobPod(rec: JobRecord): boolean {
    const job = rec.job;
    const namespace = job.metadata.namespace ?? "default";
    const prefix = `${job.metadata.name ?? ""}-`;
    const template = structuredClone(job.spec.template);
    const body: PodObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...(template.metadata ?? {}),
        name: this.#generateName(prefix, (n) => this.#pods.has(`${namespace}/${n}`)),
        namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: job.metadata.name ?? "", uid: job.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }],
      },
      spec: template.spec,
    };
    try {
      const pod = this.#admitPod(namespace, body, prefix);
      this.#startPod(pod);
      this.#event(job, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name ?? ""}`, "job-controller");
      return true;
    } catch (error) {
      if (!(error instanceof KubernetesApiError)) throw error;
      this.#event(job, "Warning", "FailedCreate", `Error creating: ${error.message}`, "job-controller");
      // The controller requeues with its rate limiter; retry on the same back-off curve.
      rec.createFailures++;
      rec.nextCreateAtMs = this.#nowMs() + Math.min(360, this.settings.jobBackoffSeconds * 2 ** (rec.createFailures - 1)) * 1000;
      if (!rec.timerPending) {
        rec.timerPending = true;
        this.#after((rec.nextCreateAtMs - this.#nowMs()) / 1000, () => {
          rec.timerPending = false;
          this.#queueReconcile(rec);
        });
      }
      return false;
    }
  }

  /** Snapshot for tests: every object of the cluster (copies). */
  snapshot(): { namespaces: KubeObject[]; jobs: JobObject[]; pods: PodObject[]; events: EventObject[] } {
    return { namespaces: this.listNamespaces(), jobs: this.listJobs(undefined), pods: this.listPods(undefined), events: this.listEvents(undefined) };
  }
}

// ---------------------------------------------------------------- helpers

/** Concatenates cause lists, dropping duplicates (same field and reason). */
function mergeCauses(first: StatusCause[], second: StatusCause[]): StatusCause[] {
  const out = [...first];
  for (const cause of second) if (!out.some((c) => c.field === cause.field && c.reason === cause.reason)) out.push(cause);
  return out;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function formatLogLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${new Date(line.timeMs).toISOString().replace("Z", "000000Z")} ${line.text}\n` : `${line.text}\n`;
}

function willRestart(spec: PodSpec, exitCode: number): boolean {
  return spec.restartPolicy === "Always" || (spec.restartPolicy === "OnFailure" && exitCode !== 0);
}

function tolerates(tol: { key?: string; operator?: string; value?: string; effect?: string }, taint: { key: string; value?: string; effect: string }): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === "Exists") return tol.key === undefined || tol.key === "" || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? "") === (taint.value ?? "");
}

function valueAt(object: unknown, field: string): unknown {
  let current: unknown = object;
  for (const part of field.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function defaultContainer(c: ContainerSpec): void {
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  const image = c.image ?? "";
  const tagged = /:[^/]+$/.test(image) && !image.endsWith(":latest");
  c.imagePullPolicy ??= tagged || image.includes("@") ? "IfNotPresent" : "Always";
  c.resources ??= {};
  // The apiserver defaults requests to limits when only limits are given.
  if (c.resources.limits && !c.resources.requests) c.resources.requests = { ...c.resources.limits };
}

function defaultedPodSpec(spec: PodSpec): PodSpec {
  const out = structuredClone(spec);
  out.restartPolicy ??= "Always";
  out.dnsPolicy ??= "ClusterFirst";
  out.schedulerName ??= "default-scheduler";
  out.terminationGracePeriodSeconds ??= 30;
  out.securityContext ??= {};
  for (const c of out.containers) defaultContainer(c);
  return out;
}

/** Pod QoS class from requests/limits (Guaranteed / Burstable / BestEffort). */
function qosClass(spec: PodSpec): string {
  let any = false;
  let guaranteed = true;
  for (const c of spec.containers) {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (Object.keys(limits).length || Object.keys(requests).length) any = true;
    for (const r of ["cpu", "memory"]) {
      if (limits[r] === undefined || (requests[r] !== undefined && parseQuantity(requests[r]) !== parseQuantity(limits[r]))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** The apiserver's PodSpec checks beyond the schema (container names and images, restartPolicy). */
function validatePodSpec(spec: PodSpec | undefined, path: string, restartPolicies: string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!spec) return [requiredValue(path)];
  if (!spec.containers || spec.containers.length === 0) causes.push(requiredValue(`${path}.containers`));
  const seen = new Set<string>();
  (spec.containers ?? []).forEach((c, i) => {
    const field = `${path}.containers[${i}]`;
    if (!c.name) causes.push(requiredValue(`${field}.name`));
    else {
      causes.push(...validateDns1123Label(`${field}.name`, c.name));
      if (seen.has(c.name)) causes.push({ reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(c.name)}`, field: `${field}.name` });
      seen.add(c.name);
    }
    if (!c.image) causes.push(requiredValue(`${field}.image`));
    for (const kind of ["limits", "requests"] as const) {
      for (const [resource, value] of Object.entries(c.resources?.[kind] ?? {})) {
        if (parseQuantity(value) === undefined) causes.push(invalidValue(`${field}.resources.${kind}.${resource}`, value, "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"));
      }
    }
  });
  const policy = spec.restartPolicy ?? "Always";
  if (!restartPolicies.includes(policy)) {
    causes.push(
      spec.restartPolicy === undefined
        ? requiredValue(`${path}.restartPolicy`, `valid values: ${restartPolicies.map((p) => `"${p}"`).join(", ")}`)
        : unsupportedValue(`${path}.restartPolicy`, policy, restartPolicies),
    );
  }
  return causes;
}
