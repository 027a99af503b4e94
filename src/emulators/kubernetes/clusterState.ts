/**
 * The shared state of one simulated cluster: Namespaces, Pods (with their
 * simulated kubelet state), Jobs (with their controller state), Events, the
 * cluster-wide resourceVersion counter and the tombstones watches read. The
 * façade ({@link KubernetesClusterRuntime}), the simulated kubelet and the
 * job controller all work on one instance. Policy objects (NetworkPolicy,
 * ResourceQuota, LimitRange, ServiceAccount) live in the
 * {@link NamespacedObjectStore} next to it.
 */
import { randomInt, randomUUID } from "node:crypto";
import type { SimulatedCloud, SimulatedCluster } from "../simulatedCloud.js";
import {
  deriveClusterNodes,
  deriveRuntimeClasses,
  type DerivedNode,
  type DerivedRuntimeClass,
} from "./deriveClusterNodes.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import type { KubernetesEmulatorSettings } from "./kubernetesEmulatorSettings.js";
import { k8sTime, type EventObject, type JobObject, type KubeObject, type PodObject } from "./kubernetesObjects.js";

/** One log line of a container run. */
export interface LogLine {
  timeMs: number;
  text: string;
}

export interface ContainerLogs {
  current: LogLine[];
  previous: LogLine[] | undefined;
}

/** A pod with its simulated kubelet state. */
export interface PodRecord {
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
  /** Bytes written to the containers' writable layers (ephemeral storage). */
  diskBytes: number;
  /** Set when the kubelet evicted the pod (status reason `Evicted`). */
  evicted: string | undefined;
  /** The mounted service-account token (simulated), or undefined when none is mounted. */
  token: string | undefined;
}

export interface JobRecord {
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
export class PodKilled extends Error {}

const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const MAX_EVENTS = 5_000;

export function copy<T>(value: T): T {
  return structuredClone(value);
}

export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`;
}

export class ClusterState {
  readonly namespaces = new Map<string, KubeObject>();
  readonly jobs = new Map<string, JobRecord>();
  readonly pods = new Map<string, PodRecord>();
  readonly events: EventObject[] = [];
  readonly closed = new AbortController();
  readonly #firstSeen = new Map<string, number>();
  /** Recently deleted pods and jobs (for watches), with the resourceVersion of their deletion. */
  readonly #tombstones: Array<{ resource: "pods" | "jobs"; object: KubeObject }> = [];
  #resourceVersion = 100;

  constructor(
    readonly clusterKey: string,
    readonly cloud: SimulatedCloud,
    readonly settings: KubernetesEmulatorSettings,
  ) {}

  get cluster(): SimulatedCluster {
    const cluster = this.cloud.getCluster(this.clusterKey);
    if (!cluster) throw KubernetesApiError.noRoute();
    return cluster;
  }

  /** Current list resourceVersion. */
  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  /** Raises the counter to at least `value` (state restored from a file). */
  advanceResourceVersion(value: number): void {
    this.#resourceVersion = Math.max(this.#resourceVersion, value);
  }

  nextResourceVersion(): string {
    return String(++this.#resourceVersion);
  }

  nowMs(): number {
    return this.cloud.clock.nowMs();
  }

  now(): string {
    return k8sTime(this.nowMs());
  }

  bump(object: KubeObject): void {
    object.metadata.resourceVersion = this.nextResourceVersion();
  }

  tombstone(resource: "pods" | "jobs", object: KubeObject): void {
    const gone = copy(object);
    this.bump(gone);
    this.#tombstones.push({ resource, object: gone });
    if (this.#tombstones.length > 1000) this.#tombstones.splice(0, this.#tombstones.length - 1000);
  }

  /** Pods or jobs deleted after resourceVersion `since` (for watch `DELETED` events). */
  deletedSince(resource: string, since: number): KubeObject[] {
    return this.#tombstones
      .filter((t) => t.resource === resource && Number(t.object.metadata.resourceVersion) > since)
      .map((t) => copy(t.object));
  }

  /** Runs `fn` after `seconds` of simulated time unless the emulator closes first. */
  after(seconds: number, fn: () => void): void {
    this.cloud.clock.sleep(seconds * 1000, this.closed.signal).then(fn, () => undefined);
  }

  requireNamespace(namespace: string): void {
    if (!this.namespaces.has(namespace)) throw KubernetesApiError.notFound("namespaces", "", namespace);
  }

  generateName(prefix: string, exists: (name: string) => boolean): string {
    for (;;) {
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
      const name = `${prefix}${suffix}`;
      if (!exists(name)) return name;
    }
  }

  podRecord(namespace: string, name: string): PodRecord {
    const rec = this.pods.get(`${namespace}/${name}`);
    if (!rec) throw KubernetesApiError.notFound("pods", "", name);
    return rec;
  }

  nodes(): DerivedNode[] {
    return deriveClusterNodes(this.cluster, this.settings, this.nowMs(), this.#firstSeen);
  }

  runtimeClasses(): DerivedRuntimeClass[] {
    return deriveRuntimeClasses(this.cluster, this.nowMs(), this.#firstSeen);
  }

  /** Records an event, or bumps `count` of an identical one (as the event recorder aggregates). */
  event(about: KubeObject, type: "Normal" | "Warning", reason: string, message: string, component: string): void {
    const uid = about.metadata.uid;
    const now = this.now();
    const existing = this.events.find(
      (e) => e.involvedObject.uid === uid && e.reason === reason && e.message === message,
    );
    if (existing) {
      existing.count++;
      existing.lastTimestamp = now;
      this.bump(existing);
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
    this.bump(event);
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }
}
