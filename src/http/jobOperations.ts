import { services } from "../composition.js";
import { jobView, parseClusterApiId } from "../domain/jobs/jobRecord.js";
import type { JobStatus } from "../domain/jobs/jobStatus.js";
import type { JobSubmissionBody } from "../domain/jobs/jobSubmission.js";
import type { ClusterRef } from "../domain/kubernetes/clusterKubernetes.js";
import { SandboxError } from "../domain/sandboxError.js";
import type { OperationHandler } from "./httpOperation.js";

/** The cluster named by the route's path parameters. */
export function clusterFromParams(params: Readonly<Record<string, string>>): ClusterRef {
  return { subscriptionId: params.subscriptionId ?? "", resourceGroup: params.resourceGroup ?? "", clusterName: params.clusterName ?? "" };
}

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

/**
 * `submitJob` (Submitter): validates the body completely before the cluster
 * is touched, then creates the Job. 201 with the job view and `Location`.
 * Retries with the same `Repeatability-Request-ID` replay the first answer.
 */
export const submitJob: OperationHandler<JobSubmissionBody> = async ({ params, body, principal, requestId }) => {
  const record = await services().jobs.submit({ principal, cluster: clusterFromParams(params), body, requestId });
  const view = jobView(record);
  return { status: 201, headers: { location: view.links.self }, body: view };
};

/** `getJob` (Reader, own team): the job, refreshed from the cluster while it runs. */
export const getJob: OperationHandler = async ({ params, principal }) => {
  const record = await services().jobs.get({ principal, cluster: clusterFromParams(params), name: params.jobName ?? "" });
  return { status: 200, body: jobView(record) };
};

/** `getJobLogs` (Reader, own team): `text/plain`, `tailLines` / `limitBytes`; readable after the Job is gone. */
export const getJobLogs: OperationHandler = async ({ params, principal, query }) => {
  const text = await services().jobs.logs({ principal, cluster: clusterFromParams(params), name: params.jobName ?? "", tailLines: num(query.tailLines), limitBytes: num(query.limitBytes) });
  return { status: 200, text, contentType: "text/plain; charset=utf-8" };
};

/** `cancelJob` (Submitter, own team): 200 with the job, now `Canceled` (or its earlier final state). Idempotent. */
export const cancelJob: OperationHandler = async ({ params, principal }) => {
  const record = await services().jobs.cancel({ principal, cluster: clusterFromParams(params), name: params.jobName ?? "" });
  return { status: 200, body: jobView(record) };
};

/**
 * `listJobs` (Reader): the caller's team's jobs (Admin: all), filters
 * `cluster` (id or name) and `status`, `top` (default 100), `nextLink` paging.
 */
export const listJobs: OperationHandler = async ({ principal, query, request }) => {
  const clusterText = typeof query.cluster === "string" ? query.cluster : undefined;
  const cluster = clusterText?.startsWith("/") ? parseClusterApiId(clusterText) : undefined;
  if (clusterText?.startsWith("/") && !cluster) {
    throw new SandboxError("InvalidRequest", `cluster "${clusterText}" is neither a cluster name nor a cluster id (/subscriptions/{s}/resourceGroups/{rg}/clusters/{name}).`, { target: "query.cluster" });
  }
  const page = await services().jobs.list({
    principal,
    cluster,
    clusterName: cluster === undefined ? clusterText : undefined,
    status: typeof query.status === "string" ? (query.status as JobStatus) : undefined,
    top: num(query.top) ?? 100,
    continuationToken: typeof query.continuationToken === "string" ? query.continuationToken : undefined,
  });
  const body: { value: unknown[]; nextLink?: string } = { value: page.records.map((r) => jobView(r)) };
  if (page.continuationToken !== undefined) {
    const next = new URL(request.url);
    next.searchParams.set("continuationToken", page.continuationToken);
    body.nextLink = next.toString();
  }
  return { status: 200, body };
};

/**
 * The job timer (`reconcileJobs`, every 10 s): refreshes unfinished jobs,
 * captures the log tails of finished ones and releases their slots.
 */
export async function reconcileJobsTimer(): Promise<void> {
  const report = await services().jobs.reconcileJobs();
  if (report.active > 0) console.log(JSON.stringify({ component: "jobs", msg: "reconcileJobs", ...report }));
}
