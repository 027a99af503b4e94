import { isSandboxError } from "../sandboxError.js";
/**
 * Port: what the product asks of a cluster's Kubernetes API. Objects are
 * plain JSON in the Kubernetes wire shape (the domain imports no client
 * library); adapters translate client errors into `SandboxError`.
 */

import type { ClusterRef } from "../sandbox/clusterRef.js";
export type { ClusterRef };

/** A Kubernetes object as JSON (`apiVersion`, `kind`, `metadata`, `spec`, `status`, …). */
export type KubernetesObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
} & Record<string, unknown>;

export interface NodeSummary {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Allocatable CPU in millicores. */
  readonly allocatableMilliCpu: number;
  /** Allocatable memory in MiB. */
  readonly allocatableMemoryMiB: number;
  readonly kernelVersion: string | undefined;
  readonly ready: boolean;
}

export interface RuntimeClassSummary {
  readonly name: string;
  readonly handler: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
}

export type DeletePropagation = "Background" | "Foreground" | "Orphan";

export interface ClusterKubernetes {
  /** The RuntimeClass, or undefined when the cluster has none of that name. */
  getRuntimeClass(name: string): Promise<RuntimeClassSummary | undefined>;
  listNodes(labelSelector?: string): Promise<NodeSummary[]>;
  /** Creates the namespace when missing. Idempotent. */
  ensureNamespace(name: string, labels?: Record<string, string>): Promise<void>;
  createJob(namespace: string, job: KubernetesObject): Promise<KubernetesObject>;
  /** Undefined when not found. */
  getJob(namespace: string, name: string): Promise<KubernetesObject | undefined>;
  listJobs(namespace: string, labelSelector?: string): Promise<KubernetesObject[]>;
  /** @returns false when the Job did not exist. */
  deleteJob(namespace: string, name: string, propagation: DeletePropagation): Promise<boolean>;
  listPods(namespace: string, labelSelector?: string): Promise<KubernetesObject[]>;
  /** Log text; `tailLines` lines at most, `limitBytes` bytes at most. */
  readPodLog(
    namespace: string,
    podName: string,
    options?: { tailLines?: number; limitBytes?: number; container?: string },
  ): Promise<string>;
  /**
   * Follows a container's log (`follow=true`): the text so far, then new text
   * as it is written; ends when the container stops. Pulling drives the
   * stream (nothing is read ahead of the consumer beyond a small buffer);
   * `signal` (or ending the iteration) closes the upstream request.
   * Rejects like `readPodLog` when the container has not started.
   */
  followPodLog(namespace: string, podName: string, container: string, signal: AbortSignal): AsyncIterable<string>;
  /** Events of the namespace, optionally for one object (`involvedObject.name`). */
  listEvents(namespace: string, involvedObjectName?: string): Promise<KubernetesObject[]>;
  /**
   * Server-side apply of a whole object (field manager `aks-pod-sandbox`,
   * forced): creates it or converges it to `object`; an unchanged object is
   * left as it is. Returns the live object.
   */
  applyObject(object: KubernetesObject): Promise<KubernetesObject>;
  /** Undefined when not found. `namespace` undefined for cluster-scoped kinds. */
  getObject(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubernetesObject | undefined>;
  listObjects(apiVersion: string, kind: string, namespace: string, labelSelector?: string): Promise<KubernetesObject[]>;
  /** @returns false when it did not exist. */
  deleteObject(apiVersion: string, kind: string, namespace: string, name: string): Promise<boolean>;
}

/** Gives a {@link ClusterKubernetes} for a cluster (credentials fetched and cached by the adapter). */
export interface ClusterKubernetesFactory {
  forCluster(cluster: ClusterRef): Promise<ClusterKubernetes>;
  /** Drops cached credentials of a cluster (after a 401, or when it is deleted). */
  forget(cluster: ClusterRef): void;
}

/** Detail code of the `NotFound` a {@link KubeconfigSource} throws when the cluster no longer exists. */
export const CLUSTER_NOT_FOUND = "ClusterNotFound";

/** True for the error of a cluster that no longer exists (nothing about it can be read any more). */
export function isClusterGone(error: unknown): boolean {
  return isSandboxError(error) && error.code === "NotFound" && error.details[0]?.code === CLUSTER_NOT_FOUND;
}

/**
 * Port: the cluster's user kubeconfig (YAML). The ARM adapter implements it
 * with `listClusterUserCredential`. The result is a secret: keep it in
 * memory only, never log or store it. A cluster that does not exist:
 * `SandboxError("NotFound")` with detail {@link CLUSTER_NOT_FOUND}.
 */
export interface KubeconfigSource {
  userKubeconfig(cluster: ClusterRef): Promise<string>;
}

/** Port: an Entra token for a scope, for kubeconfigs with an `exec` (kubelogin) user. */
export interface AccessTokenSource {
  getToken(scope: string): Promise<string>;
}
