import type { ClusterRef } from "../kubernetes/clusterKubernetes.js";
import type { JobState, JobStatus } from "./jobStatus.js";
import type { JobIsolation } from "./jobSubmission.js";
import type { SandboxVm } from "./sandboxFootprint.js";

/** What the job store keeps about a captured log tail. */
export interface CapturedLogInfo {
  /** UTF-8 bytes captured (≤ {@link MAX_CAPTURED_LOG_BYTES}). */
  bytes: number;
  /** Rows the tail is stored in. */
  chunks: number;
  /** True when the log was longer than what was captured. */
  truncated: boolean;
  capturedAt: string;
}

/** Most bytes of a finished job's log kept after Kubernetes deletes it: the tail, 256 KiB. */
export const MAX_CAPTURED_LOG_BYTES = 256 * 1024;

/**
 * A job as the job store keeps it (one row). Times are RFC 3339 UTC. No
 * field may hold a secret; `env` values are not stored at all.
 */
export interface JobRecord extends JobState {
  team: string;
  cluster: ClusterRef;
  name: string;
  namespace: string;
  /** Unique per submission (label `aks-pod-sandbox.io/job-id`, job slot key). */
  uid: string;
  isolation: JobIsolation;
  runtimeClassName: string | undefined;
  sandboxVm: SandboxVm | undefined;
  image: string;
  createdAt: string;
  createdBy: string;
  requestId: string;
  /**
   * The submitting request's repeatability key (a hash of caller and `Repeatability-Request-ID`), when it had one:
   * how a retry recognizes the job its interrupted first try submitted.
   */
  submissionKey?: string;
  warnings: string[];
  /** Last time the status was read from the cluster. */
  refreshedAt: string | undefined;
  logs: CapturedLogInfo | undefined;
  /** Store concurrency token (ETag); undefined for a record not yet stored. */
  etag?: string;
  /** The last status an event was written to the outbox for (the store keeps it; see domain/events). */
  announcedStatus?: string;
}

/** The job view of the API (docs/api-conventions.md, Jobs). */
export interface JobView {
  id: string;
  name: string;
  namespace: string;
  team: string;
  cluster: string;
  isolation: JobIsolation;
  runtimeClassName?: string;
  sandboxVm?: SandboxVm;
  image: string;
  status: JobStatus;
  exitCode?: number;
  reason?: string;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  warnings: string[];
  links: { self: string; logs: string };
}

/** The cluster's API path: `/subscriptions/{s}/resourceGroups/{rg}/clusters/{name}`. */
export function clusterApiId(cluster: ClusterRef): string {
  return `/subscriptions/${cluster.subscriptionId}/resourceGroups/${cluster.resourceGroup}/clusters/${cluster.clusterName}`;
}

/** A job's cluster-scoped id: its API path below `/api/v1`. */
export function jobApiId(cluster: ClusterRef, name: string): string {
  return `${clusterApiId(cluster)}/jobs/${name}`;
}

/** A case-insensitive key of a cluster usable in Table keys (`sub:rg:name`, lower case). */
export function clusterKey(cluster: ClusterRef): string {
  return `${cluster.subscriptionId}:${cluster.resourceGroup}:${cluster.clusterName}`.toLowerCase();
}

/**
 * Parses a cluster API id (`/subscriptions/…/resourceGroups/…/clusters/…`).
 * @returns undefined when the text is not one.
 */
export function parseClusterApiId(text: string): ClusterRef | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/clusters\/([^/]+)\/?$/i.exec(text);
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, clusterName: m[3]! } : undefined;
}

/**
 * The API view of a record.
 * @param apiBase path prefix of links (default `/api/v1`).
 */
export function jobView(record: JobRecord, apiBase = "/api/v1"): JobView {
  const id = jobApiId(record.cluster, record.name);
  const view: JobView = {
    id,
    name: record.name,
    namespace: record.namespace,
    team: record.team,
    cluster: clusterApiId(record.cluster),
    isolation: record.isolation,
    image: record.image,
    status: record.status,
    createdAt: record.createdAt,
    warnings: [...record.warnings],
    links: { self: `${apiBase}${id}`, logs: `${apiBase}${id}/logs` },
  };
  if (record.runtimeClassName !== undefined) view.runtimeClassName = record.runtimeClassName;
  if (record.sandboxVm !== undefined) view.sandboxVm = { ...record.sandboxVm };
  if (record.exitCode !== undefined) view.exitCode = record.exitCode;
  if (record.reason !== undefined) view.reason = record.reason;
  if (record.message !== undefined) view.message = record.message;
  if (record.startedAt !== undefined) view.startedAt = record.startedAt;
  if (record.finishedAt !== undefined) view.finishedAt = record.finishedAt;
  return view;
}

/**
 * The tail of a log: the last `tailLines` lines (when given), then at most
 * `limitBytes` bytes from the start of that (as the Kubernetes log API
 * applies `limitBytes`), never splitting a UTF-8 character.
 */
export function tailLog(
  text: string,
  options: { tailLines?: number | undefined; limitBytes?: number | undefined } = {},
): string {
  let out = text;
  if (options.tailLines !== undefined) {
    const lines = out.split("\n");
    const trailing = lines.at(-1) === "" ? lines.pop() !== undefined : false;
    out =
      lines.slice(Math.max(0, lines.length - options.tailLines)).join("\n") +
      (trailing && options.tailLines > 0 ? "\n" : "");
    if (options.tailLines === 0) out = "";
  }
  if (options.limitBytes !== undefined) {
    const buffer = Buffer.from(out, "utf8");
    if (buffer.length > options.limitBytes)
      out = new TextDecoder("utf-8", { fatal: false })
        .decode(buffer.subarray(0, options.limitBytes))
        .replace(/\uFFFD$/, "");
  }
  return out;
}

/**
 * The last `maxBytes` bytes of a log, starting at a line boundary when one
 * lies in that window.
 */
export function lastBytes(
  text: string,
  maxBytes: number = MAX_CAPTURED_LOG_BYTES,
): { text: string; truncated: boolean } {
  const buffer = Buffer.from(text, "utf8");
  if (buffer.length <= maxBytes) return { text, truncated: false };
  let tail = buffer.subarray(buffer.length - maxBytes);
  const newline = tail.indexOf(0x0a);
  if (newline >= 0 && newline < tail.length - 1) tail = tail.subarray(newline + 1);
  // Skip UTF-8 continuation bytes at the cut.
  let start = 0;
  while (start < tail.length && (tail[start]! & 0xc0) === 0x80) start++;
  return { text: tail.subarray(start).toString("utf8"), truncated: true };
}

export type { JobStatus };
