/**
 * The HTTP plumbing of the Kubernetes API emulator: bearer-token check, JSON
 * bodies (size limit, media types), DeleteOptions from body and query,
 * integer query parameters, label/field selector filtering, and answers as
 * objects, lists or kubectl's Table.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fullKubernetesVersion } from "./deriveClusterNodes.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import type { KubernetesClusterRuntime, PropagationPolicy } from "./kubernetesClusterRuntime.js";
import type { KubeObject } from "./kubernetesObjects.js";
import { toTable } from "./kubernetesTable.js";
import { parseFieldSelector, parseLabelSelector } from "./parseLabelSelector.js";

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function authorized(header: string | undefined, token: string): boolean {
  const m = header?.match(/^Bearer\s+(.+)$/i);
  if (!m) return false;
  const given = Buffer.from(m[1]?.trim() ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function onlyGet(method: string, fn: () => void): void {
  if (method !== "GET" && method !== "HEAD") throw KubernetesApiError.methodNotAllowed();
  fn();
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

/** The `/version` document for a cluster version (`1.30` → `v1.30.0`). */
export function versionInfo(version: string): Record<string, string> {
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
export function filterList<T extends KubeObject>(items: T[], q: URLSearchParams): T[] {
  const labels = parseLabelSelector(q.get("labelSelector"));
  const fields = parseFieldSelector(q.get("fieldSelector"));
  return items.filter((o) => labels(o.metadata.labels) && fields(o));
}

/**
 * Sends one object or a list (`<Kind>List` with `metadata.resourceVersion`),
 * or a Table when the client asked for `as=Table` (kubectl get).
 */
export function sendObject(
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
    res
      .writeHead(200, { "Content-Type": "application/json;as=Table;v=v1;g=meta.k8s.io" })
      .end(JSON.stringify(toTable(resource, items, nowMs, rt.resourceVersion, q.get("includeObject") ?? "Metadata")));
    return;
  }
  if (Array.isArray(body))
    sendJson(res, 200, { kind: listKind, apiVersion, metadata: { resourceVersion: rt.resourceVersion }, items: body });
  else sendJson(res, 200, body);
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "application/json").split(";")[0]?.trim() ?? "";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw new KubernetesApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const json =
    type === "" || type === "application/json" || type.endsWith("+json") || type === "application/apply-patch+yaml";
  if (!json) {
    throw new KubernetesApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json`,
    );
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw KubernetesApiError.badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  dryRun: boolean;
}

/** Merges DeleteOptions from the body (client-node, kubectl) and the query string. */
export async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const body = ((await readJson(req)) ?? {}) as {
    propagationPolicy?: string;
    gracePeriodSeconds?: number;
    orphanDependents?: boolean;
    dryRun?: string[];
  };
  const policy = q.get("propagationPolicy") ?? body.propagationPolicy;
  if (policy !== undefined && policy !== "Foreground" && policy !== "Background" && policy !== "Orphan") {
    throw KubernetesApiError.invalid("DeleteOptions", "", "", [
      {
        reason: "FieldValueNotSupported",
        message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
        field: "propagationPolicy",
      },
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

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw KubernetesApiError.badRequest(`${name}: Invalid value: "${raw}": must be an integer`);
  return value;
}
