import { PassThrough } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import {
  BatchV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  Log,
  NodeV1Api,
  PatchStrategy,
  type KubernetesObject as ClientObject,
  type V1Job,
  type V1Namespace,
  type V1Node,
} from "@kubernetes/client-node";
import type {
  AccessTokenSource,
  ClusterKubernetes,
  ClusterKubernetesFactory,
  ClusterRef,
  DeletePropagation,
  KubeconfigSource,
  KubernetesObject,
  NodeSummary,
  RuntimeClassSummary,
} from "../../domain/kubernetes/clusterKubernetes.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { kubernetesError } from "./kubernetesErrors.js";
import { KeepAliveKubeConfig } from "./keepAliveKubeConfig.js";
import { inSpan, SpanKind } from "../../telemetry/tracing.js";

/**
 * The object as client-node's serializer expects its model: `V1LimitRangeItem`
 * names the wire field `default` `_default` (a reserved word), and silently
 * drops a plain `default`.
 */
function toClientModel(object: KubernetesObject): ClientObject {
  if (object.kind !== "LimitRange") return object as ClientObject;
  const copy: KubernetesObject & { spec?: { limits?: Array<Record<string, unknown>> } } = structuredClone(object);
  for (const item of copy.spec?.limits ?? []) {
    if ("default" in item) {
      item._default = item.default;
      delete item.default;
    }
  }
  return copy as ClientObject;
}

/** Field manager of every server-side apply the product makes. */
const FIELD_MANAGER = "aks-pod-sandbox";

/** The AKS AAD server application (the audience of tokens for Entra-integrated clusters). */
export const AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** Plain JSON from a client-node model instance (Dates become RFC 3339 strings). */
function toJson<T>(value: T): KubernetesObject {
  return JSON.parse(JSON.stringify(value)) as KubernetesObject;
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: number } | undefined)?.code === 404;
}

/** Parses a Kubernetes quantity into a number of base units (cores, bytes). */
function quantity(value: string | undefined): number {
  if (!value) return 0;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const factors: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  return n * (factors[m[2] ?? ""] ?? 1);
}

function nodeSummary(node: V1Node): NodeSummary {
  const allocatable = node.status?.allocatable ?? {};
  return {
    name: node.metadata?.name ?? "",
    labels: node.metadata?.labels ?? {},
    allocatableMilliCpu: Math.round(quantity(allocatable.cpu) * 1000),
    allocatableMemoryMiB: Math.floor(quantity(allocatable.memory) / 1024 ** 2),
    kernelVersion: node.status?.nodeInfo?.kernelVersion,
    ready: (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  };
}

/** One cluster's Kubernetes API through `@kubernetes/client-node`. */
class KubernetesClusterClient implements ClusterKubernetes {
  readonly #core: CoreV1Api;
  readonly #batch: BatchV1Api;
  readonly #node: NodeV1Api;
  readonly #objects: KubernetesObjectApi;
  readonly #log: Log;

  constructor(
    kc: KubeConfig,
    private readonly onUnauthorized: () => void,
  ) {
    this.#log = new Log(kc);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#batch = kc.makeApiClient(BatchV1Api);
    this.#node = kc.makeApiClient(NodeV1Api);
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
  }

  async applyObject(object: KubernetesObject): Promise<KubernetesObject> {
    const what = `${object.kind ?? "object"} ${object.metadata?.name ?? ""}`;
    const applied = await this.#call(what, () =>
      this.#objects.patch(
        toClientModel(object),
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
    return toJson(applied);
  }

  async getObject(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubernetesObject | undefined> {
    try {
      return toJson(
        await this.#objects.read({
          apiVersion,
          kind,
          metadata: { name, ...(namespace !== undefined ? { namespace } : {}) },
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw kubernetesError(error, `${kind} ${name}`);
    }
  }

  async listObjects(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<KubernetesObject[]> {
    const list = await this.#call(`list ${kind}`, () =>
      this.#objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
    );
    return list.items.map(toJson);
  }

  async deleteObject(apiVersion: string, kind: string, namespace: string, name: string): Promise<boolean> {
    try {
      await this.#objects.delete({ apiVersion, kind, metadata: { name, namespace } });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw kubernetesError(error, `${kind} ${name}`);
    }
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      // One client span per Kubernetes call (child of the tick or request that makes it).
      return await inSpan(
        `Kubernetes ${what.split(" ")[0] ?? what}`,
        { kind: SpanKind.CLIENT, attributes: { "kubernetes.call": what } },
        fn,
      );
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 401) this.onUnauthorized();
      throw kubernetesError(error, what);
    }
  }

  async getRuntimeClass(name: string): Promise<RuntimeClassSummary | undefined> {
    try {
      const rc = await this.#node.readRuntimeClass({ name });
      return { name: rc.metadata?.name ?? name, handler: rc.handler, nodeSelector: rc.scheduling?.nodeSelector ?? {} };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw kubernetesError(error, `runtime class ${name}`);
    }
  }

  async listNodes(labelSelector?: string): Promise<NodeSummary[]> {
    const list = await this.#call("list nodes", () => this.#core.listNode(labelSelector ? { labelSelector } : {}));
    return list.items.map(nodeSummary);
  }

  async ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    try {
      await this.#core.readNamespace({ name });
      return;
    } catch (error) {
      if (!isNotFound(error)) throw kubernetesError(error, `namespace ${name}`);
    }
    const body: V1Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
    try {
      await this.#core.createNamespace({ body });
    } catch (error) {
      // Created concurrently by another request: fine.
      if ((error as { code?: number }).code !== 409) throw kubernetesError(error, `namespace ${name}`);
    }
  }

  async createJob(namespace: string, job: KubernetesObject): Promise<KubernetesObject> {
    const created = await this.#call(`job ${job.metadata?.name ?? ""}`, () =>
      this.#batch.createNamespacedJob({ namespace, body: job as unknown as V1Job }),
    );
    return toJson(created);
  }

  async getJob(namespace: string, name: string): Promise<KubernetesObject | undefined> {
    try {
      return toJson(await this.#batch.readNamespacedJob({ namespace, name }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw kubernetesError(error, `job ${name}`);
    }
  }

  async listJobs(namespace: string, labelSelector?: string): Promise<KubernetesObject[]> {
    const list = await this.#call("list jobs", () =>
      this.#batch.listNamespacedJob({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    );
    return list.items.map(toJson);
  }

  async deleteJob(namespace: string, name: string, propagation: DeletePropagation): Promise<boolean> {
    try {
      await this.#batch.deleteNamespacedJob({ namespace, name, propagationPolicy: propagation });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw kubernetesError(error, `job ${name}`);
    }
  }

  async listPods(namespace: string, labelSelector?: string): Promise<KubernetesObject[]> {
    const list = await this.#call("list pods", () =>
      this.#core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    );
    return list.items.map(toJson);
  }

  async readPodLog(
    namespace: string,
    podName: string,
    options: { tailLines?: number; limitBytes?: number; container?: string } = {},
  ): Promise<string> {
    return this.#call(`logs of pod ${podName}`, () =>
      this.#core.readNamespacedPodLog({
        namespace,
        name: podName,
        ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
        ...(options.limitBytes !== undefined ? { limitBytes: options.limitBytes } : {}),
        ...(options.container !== undefined ? { container: options.container } : {}),
      }),
    );
  }

  async *followPodLog(
    namespace: string,
    podName: string,
    container: string,
    signal: AbortSignal,
  ): AsyncIterable<string> {
    signal.throwIfAborted();
    // A small buffer: when the reader stops pulling, the socket to the API
    // server stops being read (TCP back-pressure) instead of memory growing.
    const sink = new PassThrough({ highWaterMark: 16 * 1024 });
    const controller = await this.#call(`logs of pod ${podName}`, () =>
      this.#log.log(namespace, podName, container, sink, { follow: true }),
    );
    const stop = (): void => {
      controller.abort();
      sink.destroy();
    };
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const chunk of sink) {
        if (signal.aborted) return;
        yield (chunk as Buffer).toString("utf8");
      }
    } catch (error) {
      // Aborting ends the upstream request; that is not a failure.
      if (signal.aborted) return;
      throw kubernetesError(error, `logs of pod ${podName}`);
    } finally {
      signal.removeEventListener("abort", stop);
      stop();
    }
  }

  async listEvents(namespace: string, involvedObjectName?: string): Promise<KubernetesObject[]> {
    const list = await this.#call("list events", () =>
      this.#core.listNamespacedEvent({
        namespace,
        ...(involvedObjectName ? { fieldSelector: `involvedObject.name=${involvedObjectName}` } : {}),
      }),
    );
    return list.items.map(toJson);
  }
}

interface CachedClient {
  client: Promise<ClusterKubernetes>;
  expiresAt: number;
}

/** The kubelogin `--server-id` of an exec user, else the AKS AAD server app. */
function execServerId(args: readonly string[] | undefined): string {
  const list = args ?? [];
  const i = list.findIndex((a) => a === "--server-id" || a === "--server-id=");
  const inline = list.find((a) => a.startsWith("--server-id="));
  return inline?.slice("--server-id=".length) ?? (i >= 0 ? list[i + 1] : undefined) ?? AKS_AAD_SERVER_APP_ID;
}

export interface KubernetesClientFactoryOptions {
  kubeconfigs: KubeconfigSource;
  /** For clusters whose kubeconfig has an `exec` user (Entra-integrated): tokens for the AKS server app. */
  tokens?: AccessTokenSource;
  /** How long credentials are kept in memory, ms (default 5 minutes). */
  ttlMs?: number;
}

/**
 * Builds Kubernetes clients from cluster user credentials. Kubeconfigs live
 * only in this process's memory, for `ttlMs`; concurrent first uses share one
 * credential fetch. An `exec` user (kubelogin) is never executed: its token
 * comes from the Azure credential for the AKS server application instead.
 */
export class KubernetesClientFactory implements ClusterKubernetesFactory {
  readonly #cache = new Map<string, CachedClient>();
  readonly #ttlMs: number;

  constructor(private readonly options: KubernetesClientFactoryOptions) {
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
  }

  static key(ref: ClusterRef): string {
    return `${ref.subscriptionId}/${ref.resourceGroup}/${ref.clusterName}`.toLowerCase();
  }

  async forCluster(ref: ClusterRef): Promise<ClusterKubernetes> {
    const key = KubernetesClientFactory.key(ref);
    const cached = this.#cache.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.client;
    const client = this.#build(ref);
    this.#cache.set(key, { client, expiresAt: Date.now() + this.#ttlMs });
    client.catch(() => this.#cache.delete(key));
    return client;
  }

  forget(ref: ClusterRef): void {
    this.#cache.delete(KubernetesClientFactory.key(ref));
  }

  async #build(ref: ClusterRef): Promise<ClusterKubernetes> {
    const yaml = await this.options.kubeconfigs.userKubeconfig(ref);
    const kc = new KeepAliveKubeConfig();
    try {
      kc.loadFromString(yaml);
    } catch {
      throw new SandboxError("UpstreamFailed", `The credentials of cluster ${ref.clusterName} could not be read.`);
    }
    const user = kc.getCurrentUser();
    if (user?.exec) {
      if (!this.options.tokens)
        throw new SandboxError(
          "UpstreamFailed",
          `Cluster ${ref.clusterName} uses Entra ID authentication, but no Azure credential is configured for it.`,
        );
      const token = await this.options.tokens.getToken(
        `${execServerId((user.exec as { args?: string[] }).args)}/.default`,
      );
      const users = kc.users.map((u) => (u.name === user.name ? { name: u.name, token } : u));
      kc.loadFromOptions({ clusters: kc.clusters, users, contexts: kc.contexts, currentContext: kc.currentContext });
    }
    return new KubernetesClusterClient(kc, () => this.forget(ref));
  }
}
