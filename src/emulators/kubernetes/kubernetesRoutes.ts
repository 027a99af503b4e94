/**
 * The Kubernetes emulator's resource routes as a table: one entry per
 * `<group>/<resource>` with the verbs it serves. The server
 * (`kubernetesEmulator.ts`) parses the path (`/api/v1/...`,
 * `/apis/<group>/v1/...`, `namespaces/<ns>/...`), finds the entry and calls
 * the verb; a verb an entry lacks is 405, an unknown resource 404.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubernetesApiError } from "./kubernetesApiError.js";
import type { KubernetesClusterRuntime, PropagationPolicy } from "./kubernetesClusterRuntime.js";
import type { KubeObject } from "./kubernetesObjects.js";
import { STORED_RESOURCES, type StoredResourceName } from "./namespacedObjectStore.js";
import { patchTypeOf } from "./objectPatch.js";

/** One request, parsed, as a route's verbs see it. */
export interface ResourceRequest {
  rt: KubernetesClusterRuntime;
  req: IncomingMessage;
  res: ServerResponse;
  namespace: string | undefined;
  name: string | undefined;
  sub: string | undefined;
  query: URLSearchParams;
  dryRun: boolean;
  /** Parses the JSON body (size-limited). */
  body(): Promise<unknown>;
  /** Sends one object, or a list of `listKind`, as JSON or as a Table (kubectl get). */
  respond(body: KubeObject | KubeObject[], listKind?: string): void;
  /** Applies labelSelector/fieldSelector. */
  filter<T extends KubeObject>(items: T[]): T[];
  /** Parsed DeleteOptions (body and query). */
  deleteOptions(): Promise<{
    propagationPolicy?: PropagationPolicy;
    orphanDependents?: boolean;
    gracePeriodSeconds?: number;
    dryRun: boolean;
  }>;
  /** Serves `pods/<name>/log`. */
  serveLog(namespace: string, name: string): void;
  send(code: number, body: unknown): void;
}

type Verb = (r: ResourceRequest) => void | Promise<void>;

/** A resource's verbs (absent = 405). `namespaced` resources need a namespace to create. */
export interface ResourceRoute {
  apiVersion: string;
  namespaced: boolean;
  list?: Verb;
  get?: Verb;
  create?: Verb;
  replace?: Verb;
  patch?: Verb;
  delete?: Verb;
  /** Sub-resources (`log`, `status`): GET only. */
  subresources?: Record<string, Verb>;
}

function requireNamespace(r: ResourceRequest): string {
  if (r.namespace === undefined) throw KubernetesApiError.methodNotAllowed();
  return r.namespace;
}

function requireName(r: ResourceRequest): string {
  return r.name ?? "";
}

/** The verbs of a {@link NamespacedObjectStore} resource. */
function storedRoute(resource: StoredResourceName): ResourceRoute {
  const info = STORED_RESOURCES[resource];
  return {
    apiVersion: info.apiVersion,
    namespaced: true,
    list: (r) => r.respond(r.filter(r.rt.objects.list(resource, r.namespace)), info.listKind),
    get: (r) => r.respond(r.rt.objects.get(resource, requireNamespace(r), requireName(r))),
    create: async (r) => r.send(201, r.rt.objects.create(resource, requireNamespace(r), await r.body(), r.dryRun)),
    replace: async (r) =>
      r.send(200, r.rt.objects.replace(resource, requireNamespace(r), requireName(r), await r.body(), r.dryRun)),
    patch: async (r) => {
      const type = patchTypeOf(r.req.headers["content-type"]);
      const { object, created } = r.rt.objects.patch(
        resource,
        requireNamespace(r),
        requireName(r),
        type,
        await r.body(),
        r.dryRun,
      );
      r.send(created ? 201 : 200, object);
    },
    delete: async (r) => {
      const options = await r.deleteOptions();
      r.send(200, r.rt.objects.delete(resource, requireNamespace(r), requireName(r), options.dryRun || r.dryRun));
    },
  };
}

export const RESOURCE_ROUTES: Readonly<Record<string, ResourceRoute>> = {
  "/namespaces": {
    apiVersion: "v1",
    namespaced: false,
    list: (r) => r.respond(r.filter(r.rt.listNamespaces()), "NamespaceList"),
    get: (r) => r.respond(r.rt.getNamespace(requireName(r))),
    create: async (r) => r.send(201, r.rt.createNamespace(await r.body(), r.dryRun)),
    replace: async (r) => r.send(200, r.rt.updateNamespace(requireName(r), undefined, await r.body(), r.dryRun)),
    patch: async (r) =>
      r.send(
        200,
        r.rt.updateNamespace(requireName(r), patchTypeOf(r.req.headers["content-type"]), await r.body(), r.dryRun),
      ),
  },
  "/nodes": {
    apiVersion: "v1",
    namespaced: false,
    list: (r) => r.respond(r.filter(r.rt.listNodes()), "NodeList"),
    get: (r) => r.respond(r.rt.getNode(requireName(r))),
  },
  "/events": {
    apiVersion: "v1",
    namespaced: true,
    list: (r) => r.respond(r.filter(r.rt.listEvents(r.namespace)), "EventList"),
    get: (r) => {
      const found = r.rt.listEvents(requireNamespace(r)).find((e) => e.metadata.name === r.name);
      if (!found) throw KubernetesApiError.notFound("events", "", requireName(r));
      r.respond(found);
    },
  },
  "/pods": {
    apiVersion: "v1",
    namespaced: true,
    list: (r) => r.respond(r.filter(r.rt.listPods(r.namespace)), "PodList"),
    get: (r) => r.respond(r.rt.getPod(requireNamespace(r), requireName(r))),
    create: async (r) => r.send(201, r.rt.createPod(requireNamespace(r), await r.body(), r.dryRun)),
    delete: async (r) => {
      const opts = await r.deleteOptions();
      r.send(
        200,
        r.rt.deletePod(requireNamespace(r), requireName(r), opts.gracePeriodSeconds, opts.dryRun || r.dryRun),
      );
    },
    subresources: {
      log: (r) => r.serveLog(requireNamespace(r), requireName(r)),
      status: (r) => r.respond(r.rt.getPod(requireNamespace(r), requireName(r))),
    },
  },
  "batch/jobs": {
    apiVersion: "batch/v1",
    namespaced: true,
    list: (r) => r.respond(r.filter(r.rt.listJobs(r.namespace)), "JobList"),
    get: (r) => r.respond(r.rt.getJob(requireNamespace(r), requireName(r))),
    create: async (r) => r.send(201, r.rt.createJob(requireNamespace(r), await r.body(), r.dryRun)),
    delete: async (r) => {
      const namespace = requireNamespace(r);
      const name = requireName(r);
      const opts = await r.deleteOptions();
      // batch/v1 Jobs orphan their pods when no policy is given (legacy default).
      const policy: PropagationPolicy =
        opts.propagationPolicy ?? (opts.orphanDependents === false ? "Background" : "Orphan");
      if (!opts.propagationPolicy && opts.orphanDependents === undefined) {
        r.res.setHeader(
          "Warning",
          '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"',
        );
      }
      const uid = r.rt.getJob(namespace, name).metadata.uid;
      const remaining = r.rt.deleteJob(namespace, name, policy, opts.dryRun || r.dryRun);
      if (remaining) return r.send(200, remaining);
      r.send(200, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name, group: "batch", kind: "jobs", uid },
      });
    },
    subresources: { status: (r) => r.respond(r.rt.getJob(requireNamespace(r), requireName(r))) },
  },
  "node.k8s.io/runtimeclasses": {
    apiVersion: "node.k8s.io/v1",
    namespaced: false,
    list: (r) => r.respond(r.filter(r.rt.listRuntimeClasses()), "RuntimeClassList"),
    get: (r) => r.respond(r.rt.getRuntimeClass(requireName(r))),
  },
  "networking.k8s.io/networkpolicies": storedRoute("networkpolicies"),
  "/resourcequotas": storedRoute("resourcequotas"),
  "/limitranges": storedRoute("limitranges"),
  "/serviceaccounts": storedRoute("serviceaccounts"),
};

/** Runs the verb of `route` that `method` names, or throws 405/404. */
export async function dispatch(route: ResourceRoute, method: string, r: ResourceRequest): Promise<void> {
  const get = method === "GET" || method === "HEAD";
  if (r.sub !== undefined) {
    const verb = route.subresources?.[r.sub];
    if (!verb || r.name === undefined || r.namespace === undefined) throw KubernetesApiError.noRoute();
    if (!get) throw KubernetesApiError.methodNotAllowed();
    return verb(r);
  }
  if (route.namespaced === false && r.namespace !== undefined) throw KubernetesApiError.noRoute();
  let verb: Verb | undefined;
  if (r.name === undefined) {
    if (get) verb = route.list;
    else if (method === "POST") {
      verb = route.create;
      if (verb && route.namespaced && r.namespace === undefined) throw KubernetesApiError.methodNotAllowed();
    }
  } else if (get) verb = route.get;
  else if (method === "PUT") verb = route.replace;
  else if (method === "PATCH") verb = route.patch;
  else if (method === "DELETE") verb = route.delete;
  if (!verb) throw KubernetesApiError.methodNotAllowed();
  if (r.name !== undefined && route.namespaced && r.namespace === undefined && r.name !== undefined)
    throw KubernetesApiError.noRoute();
  return verb(r);
}
