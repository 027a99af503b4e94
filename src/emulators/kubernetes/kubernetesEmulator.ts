import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SimulatedCloud, SimulatedCloudEvent } from "../simulatedCloud.js";
import { fullKubernetesVersion } from "./deriveClusterNodes.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import { KubernetesClusterRuntime, type LogOptions, type PropagationPolicy } from "./kubernetesClusterRuntime.js";
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from "./kubernetesDiscovery.js";
import { resolveKubernetesEmulatorSettings, type KubernetesEmulatorSettings } from "./kubernetesEmulatorSettings.js";
import type { EventObject, JobObject, KubeObject, PodObject } from "./kubernetesObjects.js";
import { kubernetesSchemaValidator, OPENAPI_V3_PATHS, readKubernetesOpenApiDocument, sharedReferenceDir } from "./kubernetesSchemaValidator.js";
import { toTable } from "./kubernetesTable.js";
import { OutcomeScripts } from "./outcomeScripts.js";
import { parseFieldSelector, parseLabelSelector } from "./parseLabelSelector.js";

/** Options of {@link startKubernetesEmulator}. */
export interface KubernetesEmulatorOptions {
  /** The shared simulated cloud: clusters, pools and the clock. */
  cloud: SimulatedCloud;
  /** Certificate and key to serve (see `loadOrCreateTlsMaterial`); the certificate is its own CA. */
  tls: { certPem: string; keyPem: string };
  /** TCP port; default 0 (any free port). */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Timings, kernels and sandbox sizes; see {@link KubernetesEmulatorSettings}. */
  settings?: Partial<KubernetesEmulatorSettings>;
}

/** A listening emulator. */
export interface RunningKubernetesEmulator {
  /** `https://127.0.0.1:<port>`; a cluster is served at `<url>/clusters/<key>`. */
  url: string;
  port: number;
  /** Scripted container outcomes for tests (`scripts.set({ match, exitCode, logLines, durationSeconds, reason })`). */
  scripts: OutcomeScripts;
  settings: KubernetesEmulatorSettings;
  /** API server URL of one cluster (what its kubeconfig names). */
  clusterUrl(clusterKey: string): string;
  /** Copies of every namespace, job, pod and event of a cluster (empty when it has not been used). */
  snapshot(clusterKey: string): ReturnType<KubernetesClusterRuntime["snapshot"]>;
  /** Stops listening, kills every simulated process and timer. Idempotent. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * Starts the Kubernetes API emulator: one HTTPS server for every cluster of
 * `cloud`, each under `/clusters/<key>` with bearer-token auth
 * (`cluster.bearerToken`). Sets `cloud.kubernetesBaseUrl` and
 * `cloud.caCertPem` so kubeconfigs can be built (`kubeconfigForCluster`).
 * Resolves once listening. The official schemas are compiled on first start
 * (about a second).
 */
export async function startKubernetesEmulator(options: KubernetesEmulatorOptions): Promise<RunningKubernetesEmulator> {
  const { cloud } = options;
  const settings = resolveKubernetesEmulatorSettings(options.settings);
  const scripts = new OutcomeScripts();
  const schemas = kubernetesSchemaValidator();
  const runtimes = new Map<string, KubernetesClusterRuntime>();
  const openApiCache = new Map<string, string>();
  /** Enders of open log-follow and watch streams (ended on close). */
  const openStreams = new Set<() => void>();

  const runtimeFor = (key: string): KubernetesClusterRuntime | undefined => {
    if (!cloud.getCluster(key)) return undefined;
    let runtime = runtimes.get(key);
    if (!runtime) {
      runtime = new KubernetesClusterRuntime(key, cloud, settings, scripts, schemas);
      runtimes.set(key, runtime);
    }
    return runtime;
  };

  const onChange = (event: SimulatedCloudEvent) => {
    if (event.type === "clusterDeleted") {
      runtimes.get(event.clusterKey)?.close();
      runtimes.delete(event.clusterKey);
    } else runtimes.get(event.clusterKey)?.poke();
  };
  cloud.on("change", onChange);

  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof KubernetesApiError ? error : new KubernetesApiError(500, "InternalError", `Internal error occurred: ${String(error)}`);
      if (!res.headersSent) sendJson(res, status.code, status.toStatus());
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    res.setHeader("Audit-Id", randomUUID());
    res.setHeader("Cache-Control", "no-cache, private");
    if (url.pathname === "/healthz" || url.pathname === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
      return;
    }
    const m = url.pathname.match(/^\/clusters\/([^/]+)(\/.*)?$/);
    if (!m) throw KubernetesApiError.noRoute();
    const key = decodeURIComponent(m[1] ?? "");
    const cluster = cloud.getCluster(key);
    if (!cluster) throw KubernetesApiError.noRoute();
    if (!authorized(req.headers.authorization, cluster.bearerToken)) throw KubernetesApiError.unauthorized();
    const runtime = runtimeFor(key);
    if (!runtime) throw KubernetesApiError.noRoute();
    const path = (m[2] ?? "/").replace(/\/+$/, "") || "/";
    await route(runtime, req, res, path, url, `/clusters/${key}`);
  }

  async function route(rt: KubernetesClusterRuntime, req: IncomingMessage, res: ServerResponse, path: string, url: URL, prefix: string): Promise<void> {
    const method = req.method ?? "GET";
    const q = url.searchParams;
    const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
    const get = method === "GET" || method === "HEAD";

    // ---- version, discovery, OpenAPI
    if (path === "/version") return onlyGet(method, () => sendJson(res, 200, versionInfo(rt.cluster.kubernetesVersion)));
    if (path === "/api") return onlyGet(method, () => sendJson(res, 200, apiVersions(`${req.socket.localAddress ?? "127.0.0.1"}:${String(req.socket.localPort ?? 443)}`)));
    if (path === "/apis") return onlyGet(method, () => sendJson(res, 200, apiGroupList()));
    if (path.startsWith("/openapi/")) return onlyGet(method, () => serveOpenApi(res, path, prefix));

    // ---- resources: /api/v1/... or /apis/<group>/<version>/...
    let group: string;
    let rest: string[];
    if (parts[0] === "api" && parts[1] === "v1") {
      group = "";
      rest = parts.slice(2);
    } else if (parts[0] === "apis" && parts.length >= 2) {
      group = parts[1] ?? "";
      if (parts.length === 2) {
        const g = apiGroup(group);
        if (!g) throw KubernetesApiError.noRoute();
        return onlyGet(method, () => sendJson(res, 200, g));
      }
      if (!apiResourceList(group, parts[2] ?? "")) throw KubernetesApiError.noRoute();
      rest = parts.slice(3);
    } else throw KubernetesApiError.noRoute();
    if (rest.length === 0) {
      const list = apiResourceList(group, "v1");
      if (!list) throw KubernetesApiError.noRoute();
      return onlyGet(method, () => sendJson(res, 200, list));
    }

    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource = "", name, sub] = rest;
    if (rest.length > 3) throw KubernetesApiError.noRoute();
    if (q.get("watch") === "true" || q.get("watch") === "1") {
      if (!get || name !== undefined) throw KubernetesApiError.methodNotAllowed();
      const lister = watchable(rt, group, resource, namespace);
      if (!lister) throw KubernetesApiError.methodNotAllowed();
      return serveWatch(rt, req, res, resource, lister, q);
    }
    const respond = (resourceName: string, body: KubeObject | KubeObject[], listKind?: string, apiVersion = "v1") =>
      sendObject(res, req, rt, resourceName, body, listKind, apiVersion, q);
    const dryRun = q.getAll("dryRun").includes("All");

    // ---- core/v1
    if (group === "") {
      switch (resource) {
        case "namespaces":
          if (namespace !== undefined || sub) break;
          if (name === undefined) {
            if (get) return respond("namespaces", filterList(rt.listNamespaces(), q), "NamespaceList");
            if (method === "POST") return respondCreated(res, rt.createNamespace(await readJson(req), dryRun));
          } else if (get) return respond("namespaces", rt.getNamespace(name));
          throw KubernetesApiError.methodNotAllowed();
        case "nodes":
          if (namespace !== undefined || sub) break;
          if (!get) throw KubernetesApiError.methodNotAllowed();
          return name === undefined ? respond("nodes", filterList(rt.listNodes(), q), "NodeList") : respond("nodes", rt.getNode(name));
        case "events":
          if (sub) break;
          if (!get) throw KubernetesApiError.methodNotAllowed();
          if (name === undefined) return respond("events", filterList(rt.listEvents(namespace), q), "EventList");
          if (namespace === undefined) break;
          return respond("events", findOrThrow(rt.listEvents(namespace), name, "events", ""));
        case "pods":
          if (name === undefined) {
            if (get) return respond("pods", filterList(rt.listPods(namespace), q), "PodList");
            if (method === "POST" && namespace !== undefined) return respondCreated(res, rt.createPod(namespace, await readJson(req), dryRun));
            throw KubernetesApiError.methodNotAllowed();
          }
          if (namespace === undefined) break;
          if (sub === "log") {
            if (!get) throw KubernetesApiError.methodNotAllowed();
            return serveLog(rt, req, res, namespace, name, q);
          }
          if (sub === "status") {
            if (!get) throw KubernetesApiError.methodNotAllowed();
            return respond("pods", rt.getPod(namespace, name));
          }
          if (sub) break;
          if (get) return respond("pods", rt.getPod(namespace, name));
          if (method === "DELETE") {
            const opts = await deleteOptions(req, q);
            return sendJson(res, 200, rt.deletePod(namespace, name, opts.gracePeriodSeconds, opts.dryRun || dryRun));
          }
          throw KubernetesApiError.methodNotAllowed();
      }
      throw KubernetesApiError.noRoute();
    }

    // ---- batch/v1
    if (group === "batch" && resource === "jobs") {
      if (name === undefined) {
        if (get) return respond("jobs", filterList(rt.listJobs(namespace), q), "JobList", "batch/v1");
        if (method === "POST" && namespace !== undefined) return respondCreated(res, rt.createJob(namespace, await readJson(req), dryRun));
        throw KubernetesApiError.methodNotAllowed();
      }
      if (namespace === undefined || (sub && sub !== "status")) throw KubernetesApiError.noRoute();
      if (get) return respond("jobs", rt.getJob(namespace, name), undefined, "batch/v1");
      if (method === "DELETE" && !sub) {
        const opts = await deleteOptions(req, q);
        // batch/v1 Jobs orphan their pods when no policy is given (legacy default).
        const policy: PropagationPolicy = opts.propagationPolicy ?? (opts.orphanDependents === false ? "Background" : "Orphan");
        if (!opts.propagationPolicy && opts.orphanDependents === undefined) {
          res.setHeader("Warning", '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"');
        }
        const uid = rt.getJob(namespace, name).metadata.uid;
        const remaining = rt.deleteJob(namespace, name, policy, opts.dryRun || dryRun);
        if (remaining) return sendJson(res, 200, remaining);
        return sendJson(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: "batch", kind: "jobs", uid } });
      }
      throw KubernetesApiError.methodNotAllowed();
    }

    // ---- node.k8s.io/v1
    if (group === "node.k8s.io" && resource === "runtimeclasses" && namespace === undefined && !sub) {
      if (!get) throw KubernetesApiError.methodNotAllowed();
      return name === undefined
        ? respond("runtimeclasses", filterList(rt.listRuntimeClasses(), q), "RuntimeClassList", "node.k8s.io/v1")
        : respond("runtimeclasses", rt.getRuntimeClass(name), undefined, "node.k8s.io/v1");
    }
    throw KubernetesApiError.noRoute();
  }

  function serveOpenApi(res: ServerResponse, path: string, prefix: string): void {
    if (path === "/openapi/v3") {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const gv of Object.keys(OPENAPI_V3_PATHS)) paths[gv] = { serverRelativeURL: `${prefix}/openapi/v3/${gv}?hash=${openApiHash(gv)}` };
      sendJson(res, 200, { paths });
      return;
    }
    const gv = path.slice("/openapi/v3/".length);
    const text = openApiText(gv);
    if (text === undefined) throw KubernetesApiError.noRoute();
    res.writeHead(200, { "Content-Type": "application/json" }).end(text);
  }

  function openApiText(gv: string): string | undefined {
    const doc = OPENAPI_V3_PATHS[gv];
    if (!doc) return undefined;
    let text = openApiCache.get(gv);
    if (text === undefined) {
      text = JSON.stringify(readKubernetesOpenApiDocument(doc, sharedReferenceDir()));
      openApiCache.set(gv, text);
    }
    return text;
  }

  function openApiHash(gv: string): string {
    return createHash("sha512").update(openApiText(gv) ?? "").digest("hex").toUpperCase().slice(0, 128);
  }

  function serveLog(rt: KubernetesClusterRuntime, req: IncomingMessage, res: ServerResponse, namespace: string, name: string, q: URLSearchParams): void {
    const options: LogOptions = {
      container: q.get("container") ?? undefined,
      tailLines: intParam(q, "tailLines"),
      limitBytes: intParam(q, "limitBytes"),
      sinceSeconds: intParam(q, "sinceSeconds"),
      timestamps: q.get("timestamps") === "true",
      previous: q.get("previous") === "true",
    };
    if (options.limitBytes !== undefined && options.limitBytes <= 0) throw KubernetesApiError.invalid("PodLogOptions", "", "", [{ reason: "FieldValueInvalid", message: `Invalid value: ${options.limitBytes}: must be greater than 0`, field: "limitBytes" }]);
    if (q.get("follow") !== "true") {
      const text = rt.readLog(namespace, name, options);
      res.writeHead(200, { "Content-Type": "text/plain" }).end(text);
      return;
    }
    let sent = 0;
    const limit = options.limitBytes ?? Number.POSITIVE_INFINITY;
    let stop: () => void = () => undefined;
    const end = () => {
      stop();
      openStreams.delete(end);
      if (!res.writableEnded) res.end();
    };
    openStreams.add(end);
    res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
    // Streams answer at once, as the API server does: a client's request
    // timeout covers the headers, and a quiet stream must not trip it.
    res.flushHeaders();
    stop = rt.followLog(
      namespace,
      name,
      options,
      (text) => {
        if (res.writableEnded) return;
        const bytes = Buffer.from(text).subarray(0, Math.max(0, limit - sent));
        sent += bytes.length;
        res.write(bytes);
        if (sent >= limit) end();
      },
      end,
    );
    req.on("close", end);
  }

  /**
   * A watch stream (`{"type":"ADDED|MODIFIED|DELETED","object":…}` lines).
   * Changes are found by polling the store every few ms and comparing
   * resourceVersions, plus the store's tombstones for deletions; that is
   * enough for kubectl's `delete`/`wait`, which watch until the object is gone.
   */
  function serveWatch(rt: KubernetesClusterRuntime, req: IncomingMessage, res: ServerResponse, resource: string, lister: () => KubeObject[], q: URLSearchParams): void {
    const labels = parseLabelSelector(q.get("labelSelector"));
    const fields = parseFieldSelector(q.get("fieldSelector"));
    const list = () => lister().filter((o) => labels(o.metadata.labels) && fields(o));
    const since = Number(q.get("resourceVersion") ?? "0") || 0;
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const send = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
    const known = new Map<string, string>();
    let lastRv = since;
    for (const o of list()) {
      known.set(o.metadata.uid ?? "", o.metadata.resourceVersion ?? "");
      if (since === 0 || Number(o.metadata.resourceVersion) > since) send(since === 0 ? "ADDED" : "MODIFIED", o);
    }
    const tick = () => {
      const current = list();
      const seen = new Set<string>();
      for (const o of current) {
        const uid = o.metadata.uid ?? "";
        seen.add(uid);
        const before = known.get(uid);
        if (before !== o.metadata.resourceVersion) send(before === undefined ? "ADDED" : "MODIFIED", o);
        known.set(uid, o.metadata.resourceVersion ?? "");
      }
      for (const gone of rt.deletedSince(resource, lastRv)) {
        const uid = gone.metadata.uid ?? "";
        if (seen.has(uid) || !(labels(gone.metadata.labels) && fields(gone))) continue;
        if (known.has(uid) || since > 0) send("DELETED", gone);
        known.delete(uid);
      }
      lastRv = Number(rt.resourceVersion);
    };
    if (since === 0) lastRv = Number(rt.resourceVersion);
    tick();
    const interval = setInterval(tick, 10);
    const timeoutSeconds = Number(q.get("timeoutSeconds") ?? "1800");
    const timeout = setTimeout(() => end(), Math.max(1, timeoutSeconds) * 1000);
    const end = () => {
      clearInterval(interval);
      clearTimeout(timeout);
      openStreams.delete(end);
      if (!res.writableEnded) res.end();
    };
    openStreams.add(end);
    req.on("close", end);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${options.host ?? "127.0.0.1"}:${port}`;
  cloud.kubernetesBaseUrl = url;
  cloud.caCertPem = options.tls.certPem;
  let closed = false;

  return {
    url,
    port,
    scripts,
    settings,
    clusterUrl: (clusterKey) => `${url}/clusters/${clusterKey}`,
    snapshot: (clusterKey) => runtimeFor(clusterKey)?.snapshot() ?? { namespaces: [], jobs: [], pods: [], events: [] },
    async close() {
      if (closed) return;
      closed = true;
      cloud.off("change", onChange);
      for (const rt of runtimes.values()) rt.close();
      for (const end of [...openStreams]) end();
      if (cloud.kubernetesBaseUrl === url) cloud.kubernetesBaseUrl = undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------- helpers

/** The lister behind a watchable collection, or undefined. */
function watchable(rt: KubernetesClusterRuntime, group: string, resource: string, namespace: string | undefined): (() => KubeObject[]) | undefined {
  if (group === "" && resource === "pods") return () => rt.listPods(namespace);
  if (group === "" && resource === "events") return () => rt.listEvents(namespace);
  if (group === "" && resource === "namespaces" && namespace === undefined) return () => rt.listNamespaces();
  if (group === "batch" && resource === "jobs") return () => rt.listJobs(namespace);
  return undefined;
}

function authorized(header: string | undefined, token: string): boolean {
  const m = header?.match(/^Bearer\s+(.+)$/i);
  if (!m) return false;
  const given = Buffer.from(m[1]?.trim() ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function onlyGet(method: string, fn: () => void): void {
  if (method !== "GET" && method !== "HEAD") throw KubernetesApiError.methodNotAllowed();
  fn();
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

function respondCreated(res: ServerResponse, object: KubeObject): void {
  sendJson(res, 201, object);
}

/** The `/version` document for a cluster version (`1.30` → `v1.30.0`). */
function versionInfo(version: string): Record<string, string> {
  const full = fullKubernetesVersion(version);
  const [major = "1", minor = "0"] = full.split(".");
  return {
    major,
    minor,
    gitVersion: `v${full}`,
    gitCommit: createHash("sha1").update(full).digest("hex"),
    gitTreeState: "clean",
    buildDate: "2024-01-01T00:00:00Z",
    goVersion: "go1.22.5",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

/** Applies `labelSelector` and `fieldSelector` to a list. */
function filterList<T extends KubeObject>(items: T[], q: URLSearchParams): T[] {
  const labels = parseLabelSelector(q.get("labelSelector"));
  const fields = parseFieldSelector(q.get("fieldSelector"));
  return items.filter((o) => labels(o.metadata.labels) && fields(o));
}

function findOrThrow(items: EventObject[], name: string, resource: string, group: string): EventObject {
  const found = items.find((i) => i.metadata.name === name);
  if (!found) throw KubernetesApiError.notFound(resource, group, name);
  return found;
}

/**
 * Sends one object or a list (`<Kind>List` with `metadata.resourceVersion`),
 * or a Table when the client asked for `as=Table` (kubectl get).
 */
function sendObject(
  res: ServerResponse,
  req: IncomingMessage,
  rt: KubernetesClusterRuntime,
  resource: string,
  body: KubeObject | KubeObject[],
  listKind: string | undefined,
  apiVersion: string,
  q: URLSearchParams,
): void {
  const accept = req.headers.accept ?? "";
  const nowMs = rt.cloud.clock.nowMs();
  if (/as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept)) {
    const items = Array.isArray(body) ? body : [body];
    res.writeHead(200, { "Content-Type": "application/json;as=Table;v=v1;g=meta.k8s.io" }).end(JSON.stringify(toTable(resource, items, nowMs, rt.resourceVersion, q.get("includeObject") ?? "Metadata")));
    return;
  }
  if (Array.isArray(body)) sendJson(res, 200, { kind: listKind, apiVersion, metadata: { resourceVersion: rt.resourceVersion }, items: body });
  else sendJson(res, 200, body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "application/json").split(";")[0]?.trim() ?? "";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new KubernetesApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (type !== "application/json" && type !== "") {
    throw new KubernetesApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json`);
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw KubernetesApiError.badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  dryRun: boolean;
}

/** Merges DeleteOptions from the body (client-node, kubectl) and the query string. */
async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const body = ((await readJson(req)) ?? {}) as { propagationPolicy?: string; gracePeriodSeconds?: number; orphanDependents?: boolean; dryRun?: string[] };
  const policy = q.get("propagationPolicy") ?? body.propagationPolicy;
  if (policy !== undefined && policy !== "Foreground" && policy !== "Background" && policy !== "Orphan") {
    throw KubernetesApiError.invalid("DeleteOptions", "", "", [
      { reason: "FieldValueNotSupported", message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, field: "propagationPolicy" },
    ]);
  }
  const graceText = q.get("gracePeriodSeconds");
  const grace = graceText !== null ? Number(graceText) : body.gracePeriodSeconds;
  const orphanText = q.get("orphanDependents");
  const orphan = orphanText !== null ? orphanText === "true" : body.orphanDependents;
  return {
    ...(policy ? { propagationPolicy: policy } : {}),
    ...(orphan !== undefined ? { orphanDependents: orphan } : {}),
    ...(grace !== undefined && Number.isFinite(grace) ? { gracePeriodSeconds: grace } : {}),
    dryRun: (body.dryRun ?? []).includes("All"),
  };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw KubernetesApiError.badRequest(`${name}: Invalid value: "${raw}": must be an integer`);
  return value;
}

export type { JobObject, PodObject };
