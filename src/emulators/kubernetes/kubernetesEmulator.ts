// One file on purpose (~510 lines): the server's request handling is one closure over the cluster runtimes,
// open streams, request log and fault rules; resource routing is in kubernetesRoutes.ts, the HTTP plumbing
// in kubernetesHttp.ts, the /_emulator surface in serveEmulatorControl.ts.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SimulatedCloud, SimulatedCloudEvent } from "../simulatedCloud.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import { KubernetesClusterRuntime, type ClusterObjects, type LogOptions } from "./kubernetesClusterRuntime.js";
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from "./kubernetesDiscovery.js";
import { resolveKubernetesEmulatorSettings, type KubernetesEmulatorSettings } from "./kubernetesEmulatorSettings.js";
import type { JobObject, KubeObject, PodObject } from "./kubernetesObjects.js";
import {
  kubernetesSchemaValidator,
  OPENAPI_V3_PATHS,
  readKubernetesOpenApiDocument,
} from "./kubernetesSchemaValidator.js";
import { referenceDir } from "../referenceDir.js";
import { dispatch, RESOURCE_ROUTES, type ResourceRequest } from "./kubernetesRoutes.js";
import {
  authorized,
  deleteOptions,
  filterList,
  intParam,
  onlyGet,
  readJson,
  sendJson,
  sendObject,
  versionInfo,
} from "./kubernetesHttp.js";
import { serveEmulatorControl } from "./serveEmulatorControl.js";
import { OutcomeScripts } from "./outcomeScripts.js";
import { parseFieldSelector, parseLabelSelector } from "./parseLabelSelector.js";
import { RequestLog } from "../arm/requestLog.js";
import { FaultInjector } from "../arm/faultInjector.js";

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
  /** Every used cluster's objects as plain data, by cluster key (persistence). */
  exportObjects(): Record<string, ClusterObjects>;
  /** Restores {@link exportObjects} output for clusters the cloud knows (call before serving). */
  importObjects(state: Record<string, ClusterObjects>): void;
  /**
   * Every request to a cluster's API (no headers, no bodies), also behind
   * `GET|DELETE /_emulator/requests`; `template` is the path with the cluster key as `{cluster}`.
   */
  requestLog: RequestLog;
  /**
   * Fault rules on cluster requests (`{status:429|500|503}` or `{reset:true}`; paths as in
   * `requestLog`), also behind `GET|POST|DELETE /_emulator/faults`: an API-server outage is
   * `{pathPattern:"*", action:{reset:true}}`.
   */
  faults: FaultInjector;
  /** Log-follow streams (`…/log?follow=true`) open right now, per `namespace/pod` (tests: a reader that went away leaves none). */
  openLogStreams(): string[];
  /** Stops listening, kills every simulated process and timer. Idempotent. */
  close(): Promise<void>;
}

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
  const requestLog = new RequestLog();
  const faults = new FaultInjector();
  /** The open log-follow streams' `namespace/pod`, keyed by their ender. */
  const logStreams = new Map<() => void, string>();

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
      const status =
        error instanceof KubernetesApiError
          ? error
          : new KubernetesApiError(500, "InternalError", `Internal error occurred: ${String(error)}`);
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
    if (url.pathname.startsWith("/_emulator/")) return serveEmulatorControl(req, res, url.pathname, requestLog, faults);
    const m = url.pathname.match(/^\/clusters\/([^/]+)(\/.*)?$/);
    if (!m) throw KubernetesApiError.noRoute();
    const key = decodeURIComponent(m[1] ?? "");
    const method = (req.method ?? "GET").toUpperCase();
    const arrived = Date.now();
    const entry = {
      wallTime: new Date(arrived).toISOString(),
      simulatedTime: new Date(cloud.clock.nowMs()).toISOString(),
      method,
      path: url.pathname,
    };
    const template = `/clusters/{cluster}${m[2] ?? ""}`;
    const rule = faults.match(method, url.pathname, "request");
    if (rule && "reset" in rule.action) {
      requestLog.add({ ...entry, template, status: 0, durationMs: 0, faultId: rule.id });
      req.socket.destroy();
      return;
    }
    res.once("finish", () =>
      requestLog.add({
        ...entry,
        template,
        status: res.statusCode,
        durationMs: Date.now() - arrived,
        ...(rule ? { faultId: rule.id } : {}),
      }),
    );
    if (rule && "status" in rule.action) {
      const { status } = rule.action;
      const retry = status === 429 ? { "Retry-After": String(rule.action.retryAfterSeconds ?? 1) } : {};
      const reason = status === 429 ? "TooManyRequests" : status === 503 ? "ServiceUnavailable" : "InternalError";
      res.writeHead(status, { "Content-Type": "application/json", ...retry });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `injected fault: ${status}`,
          reason,
          code: status,
        }),
      );
      return;
    }
    const cluster = cloud.getCluster(key);
    if (!cluster) throw KubernetesApiError.noRoute();
    if (!authorized(req.headers.authorization, cluster.bearerToken)) throw KubernetesApiError.unauthorized();
    const runtime = runtimeFor(key);
    if (!runtime) throw KubernetesApiError.noRoute();
    const path = (m[2] ?? "/").replace(/\/+$/, "") || "/";
    await route(runtime, req, res, path, url, `/clusters/${key}`);
  }

  async function route(
    rt: KubernetesClusterRuntime,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    url: URL,
    prefix: string,
  ): Promise<void> {
    const method = req.method ?? "GET";
    const q = url.searchParams;
    const parts = path
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    const get = method === "GET" || method === "HEAD";

    // ---- version, discovery, OpenAPI
    if (path === "/version")
      return onlyGet(method, () => sendJson(res, 200, versionInfo(rt.cluster.kubernetesVersion)));
    if (path === "/api")
      return onlyGet(method, () =>
        sendJson(
          res,
          200,
          apiVersions(`${req.socket.localAddress ?? "127.0.0.1"}:${String(req.socket.localPort ?? 443)}`),
        ),
      );
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
    const entry = RESOURCE_ROUTES[`${group}/${resource}`];
    if (!entry) throw KubernetesApiError.noRoute();
    if (q.get("watch") === "true" || q.get("watch") === "1") {
      if (!get || name !== undefined) throw KubernetesApiError.methodNotAllowed();
      const lister = watchable(rt, group, resource, namespace);
      if (!lister) throw KubernetesApiError.methodNotAllowed();
      return serveWatch(rt, req, res, resource, lister, q);
    }
    const request: ResourceRequest = {
      rt,
      req,
      res,
      namespace,
      name,
      sub,
      query: q,
      dryRun: q.getAll("dryRun").includes("All"),
      body: () => readJson(req),
      respond: (body, listKind) => sendObject(res, req, rt, resource, body, listKind, entry.apiVersion, q),
      filter: (items) => filterList(items, q),
      deleteOptions: () => deleteOptions(req, q),
      serveLog: (ns, podName) => serveLog(rt, req, res, ns, podName, q),
      send: (code, body) => sendJson(res, code, body),
    };
    return dispatch(entry, method, request);
  }

  function serveOpenApi(res: ServerResponse, path: string, prefix: string): void {
    if (path === "/openapi/v3") {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const gv of Object.keys(OPENAPI_V3_PATHS))
        paths[gv] = { serverRelativeURL: `${prefix}/openapi/v3/${gv}?hash=${openApiHash(gv)}` };
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
      text = JSON.stringify(readKubernetesOpenApiDocument(doc, referenceDir()));
      openApiCache.set(gv, text);
    }
    return text;
  }

  function openApiHash(gv: string): string {
    return createHash("sha512")
      .update(openApiText(gv) ?? "")
      .digest("hex")
      .toUpperCase()
      .slice(0, 128);
  }

  function serveLog(
    rt: KubernetesClusterRuntime,
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    name: string,
    q: URLSearchParams,
  ): void {
    const options: LogOptions = {
      container: q.get("container") ?? undefined,
      tailLines: intParam(q, "tailLines"),
      limitBytes: intParam(q, "limitBytes"),
      sinceSeconds: intParam(q, "sinceSeconds"),
      timestamps: q.get("timestamps") === "true",
      previous: q.get("previous") === "true",
    };
    if (options.limitBytes !== undefined && options.limitBytes <= 0)
      throw KubernetesApiError.invalid("PodLogOptions", "", "", [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${options.limitBytes}: must be greater than 0`,
          field: "limitBytes",
        },
      ]);
    if (q.get("follow") !== "true") {
      const text = rt.readLog(namespace, name, options);
      res.writeHead(200, { "Content-Type": "text/plain" }).end(text);
      return;
    }
    // A container that has not started is a 400 before any stream starts, as
    // on the API server (followLog would throw only after the 200 went out).
    rt.readLog(namespace, name, { ...options, limitBytes: undefined });
    let sent = 0;
    const limit = options.limitBytes ?? Number.POSITIVE_INFINITY;
    let stop: () => void = () => undefined;
    const end = () => {
      stop();
      openStreams.delete(end);
      logStreams.delete(end);
      if (!res.writableEnded) res.end();
    };
    openStreams.add(end);
    logStreams.set(end, `${namespace}/${name}`);
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
  function serveWatch(
    rt: KubernetesClusterRuntime,
    req: IncomingMessage,
    res: ServerResponse,
    resource: string,
    lister: () => KubeObject[],
    q: URLSearchParams,
  ): void {
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
    requestLog,
    faults,
    settings,
    clusterUrl: (clusterKey) => `${url}/clusters/${clusterKey}`,
    snapshot: (clusterKey) => runtimeFor(clusterKey)?.snapshot() ?? emptySnapshot(),
    exportObjects: () => Object.fromEntries([...runtimes].map(([key, rt]) => [key, rt.exportObjects()])),
    importObjects(state) {
      for (const [key, objects] of Object.entries(state)) runtimeFor(key)?.importObjects(objects);
    },
    openLogStreams: () => [...logStreams.values()],
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

function emptySnapshot(): ReturnType<KubernetesClusterRuntime["snapshot"]> {
  return {
    namespaces: [],
    jobs: [],
    pods: [],
    events: [],
    networkPolicies: [],
    resourceQuotas: [],
    limitRanges: [],
    serviceAccounts: [],
  };
}

/** The lister behind a watchable collection, or undefined. */
function watchable(
  rt: KubernetesClusterRuntime,
  group: string,
  resource: string,
  namespace: string | undefined,
): (() => KubeObject[]) | undefined {
  if (group === "" && resource === "pods") return () => rt.listPods(namespace);
  if (group === "" && resource === "events") return () => rt.listEvents(namespace);
  if (group === "" && resource === "namespaces" && namespace === undefined) return () => rt.listNamespaces();
  if (group === "batch" && resource === "jobs") return () => rt.listJobs(namespace);
  if (group === "networking.k8s.io" && resource === "networkpolicies")
    return () => rt.objects.list("networkpolicies", namespace);
  return undefined;
}

export type { JobObject, PodObject };
