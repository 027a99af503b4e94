import { jobView, parseClusterApiId } from "../domain/jobs/jobRecord.js";
import type { JobStatus } from "../domain/jobs/jobStatus.js";
import type { JobSubmissionBody } from "../domain/jobs/jobSubmission.js";
import { clusterRefOf } from "../domain/sandbox/clusterRef.js";
import { SandboxError } from "../domain/sandboxError.js";
import { errorResponse } from "./httpOperation.js";
import { logStream } from "./jobLogStream.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** Handlers of the job routes (`JobService`). */
export function jobHandlers(services: ServicesSource<"jobs">) {
  /**
   * `submitJob` (Submitter): validates the body completely before the cluster
   * is touched, then creates the Job. 201 with the job view and `Location`.
   * Retries with the same `Repeatability-Request-ID` replay the first answer; a retry after a try that died
   * mid-way answers with the job that try submitted (the same 201), never `Conflict` with it.
   */
  const submitJob: OperationHandler<JobSubmissionBody> = async ({
    params,
    body,
    principal,
    requestId,
    repeatabilityKey,
  }) => {
    const record = await services().jobs.submit({
      principal,
      cluster: clusterRefOf(params),
      body,
      requestId,
      ...(repeatabilityKey === undefined ? {} : { submissionKey: repeatabilityKey }),
    });
    const view = jobView(record);
    return { status: 201, headers: { location: view.links.self }, body: view };
  };

  /**
   * `getJob` (Reader, own team): the job, refreshed from the cluster while it runs. `?team=` names the team (an
   * Admin must when the name exists in several teams: 409 otherwise; so do `getJobLogs` and `cancelJob`).
   */
  const getJob: OperationHandler = async ({ params, principal, query }) => {
    const record = await services().jobs.get({
      principal,
      cluster: clusterRefOf(params),
      name: params.jobName ?? "",
      team: str(query.team),
    });
    return { status: 200, body: jobView(record) };
  };

  /**
   * `getJobLogs` (Reader, own team): `text/plain`, `tailLines` / `limitBytes` (a live log: 1 MiB when not given);
   * readable after the Job is gone.
   * `follow=true` streams the log until the job ends: Server-Sent Events for `Accept: text/event-stream`
   * (resumable with `Last-Event-ID`), chunked text otherwise.
   */
  const getJobLogs: OperationHandler = async ({ params, principal, query, request, invocation }) => {
    if (query.follow === true) {
      if (query.tailLines !== undefined || query.limitBytes !== undefined) {
        throw new SandboxError(
          "InvalidRequest",
          "follow=true streams the whole log; it cannot be combined with tailLines or limitBytes.",
          { target: "query.follow" },
        );
      }
      const cluster = clusterRefOf(params);
      const name = params.jobName ?? "";
      const team = str(query.team);
      const sse = /\btext\/event-stream\b/i.test(request.headers.get("accept") ?? "");
      const abort = new AbortController();
      const chunks = await services().jobs.followLogs({ principal, cluster, name, team, signal: abort.signal });
      const stream = logStream(chunks, {
        format: sse ? "sse" : "text",
        skipLines: Number(request.headers.get("last-event-id") ?? "0") || 0,
        abort,
        onEnd: async () => jobView(await services().jobs.get({ principal, cluster, name, team })),
        onError: (error) => errorResponse(error, invocation).body,
      });
      return {
        status: 200,
        stream,
        contentType: sse ? "text/event-stream; charset=utf-8" : "text/plain; charset=utf-8",
        // No proxy may hold the stream back.
        headers: { "cache-control": "no-cache", "x-accel-buffering": "no" },
      };
    }
    const text = await services().jobs.logs({
      principal,
      cluster: clusterRefOf(params),
      name: params.jobName ?? "",
      team: str(query.team),
      tailLines: num(query.tailLines),
      limitBytes: num(query.limitBytes),
    });
    return { status: 200, text, contentType: "text/plain; charset=utf-8" };
  };

  /** `cancelJob` (Submitter, own team): 200 with the job, now `Canceled` (or its earlier final state). Idempotent. */
  const cancelJob: OperationHandler = async ({ params, principal, query }) => {
    const record = await services().jobs.cancel({
      principal,
      cluster: clusterRefOf(params),
      name: params.jobName ?? "",
      team: str(query.team),
    });
    return { status: 200, body: jobView(record) };
  };

  /**
   * `listJobs` (Reader): the caller's team's jobs (Admin: all), filters
   * `cluster` (id or name) and `status`, `top` (default 100), `nextLink` paging.
   */
  const listJobs: OperationHandler = async ({ principal, query, request }) => {
    const clusterText = typeof query.cluster === "string" ? query.cluster : undefined;
    const cluster = clusterText?.startsWith("/") ? parseClusterApiId(clusterText) : undefined;
    if (clusterText?.startsWith("/") && !cluster) {
      throw new SandboxError(
        "InvalidRequest",
        `cluster "${clusterText}" is neither a cluster name nor a cluster id (/subscriptions/{s}/resourceGroups/{rg}/clusters/{name}).`,
        { target: "query.cluster" },
      );
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

  return { submitJob, getJob, getJobLogs, cancelJob, listJobs };
}
