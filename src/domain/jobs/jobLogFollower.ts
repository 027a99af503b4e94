/**
 * `getJobLogs?follow=true`: a job's log as it is written, ending when the job
 * ends. Waits while the pod is scheduled or its image pulled; once the
 * container runs, follows its log through the cluster's API (one upstream
 * stream, closed when the reader goes away); after the Job is gone, serves
 * the captured tail.
 */
import type { ClusterKubernetesFactory, KubernetesObject } from "../kubernetes/clusterKubernetes.js";
import { isSandboxError } from "../sandboxError.js";
import { JOB_CONTAINER_NAME, JOB_ID_LABEL } from "./jobManifest.js";
import type { JobRecord } from "./jobRecord.js";
import { isTerminalJobStatus } from "./jobStatus.js";

export interface JobLogFollowerDependencies {
  kubernetes: ClusterKubernetesFactory;
  /** The captured log tail of a finished job. */
  readCaptured(record: JobRecord): Promise<string>;
  /** The job refreshed from the cluster (captures the tail once it ended). */
  refresh(record: JobRecord): Promise<JobRecord>;
  /** How long to wait between looks at a job whose container has not started, ms (default 1000). */
  waitMs?: number;
}

function newest(pods: readonly KubernetesObject[]): KubernetesObject | undefined {
  return [...pods].sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? "").localeCompare(String(a.metadata?.creationTimestamp ?? "")),
  )[0];
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A container that has not started answers 400 ("waiting to start"), a pod not yet there 404. */
function notStartedYet(error: unknown): boolean {
  return isSandboxError(error) && (error.code === "UpstreamFailed" || error.code === "NotFound");
}

/**
 * Text chunks of the job's log, from the start, until the job ends or
 * `signal` aborts. Never reads ahead of its consumer: a slow reader slows the
 * upstream stream instead of filling memory.
 */
export async function* followJobLog(
  deps: JobLogFollowerDependencies,
  record: JobRecord,
  signal: AbortSignal,
): AsyncGenerator<string, void, undefined> {
  let current = record;
  const waitMs = deps.waitMs ?? 1000;
  while (!signal.aborted) {
    if (current.logs) {
      const text = await deps.readCaptured(current);
      if (text.length > 0) yield text;
      return;
    }
    const k8s = await deps.kubernetes.forCluster(current.cluster);
    const job = await k8s.getJob(current.namespace, current.name);
    if (job && job.metadata?.labels?.[JOB_ID_LABEL] === current.uid) {
      const podName = newest(await k8s.listPods(current.namespace, `${JOB_ID_LABEL}=${current.uid}`))?.metadata?.name;
      if (podName) {
        let started = false;
        try {
          for await (const text of k8s.followPodLog(current.namespace, podName, JOB_CONTAINER_NAME, signal)) {
            started = true;
            yield text;
          }
          return;
        } catch (error) {
          // Only "not started yet" is waited out; a stream broken midway is an error (a retry would repeat text).
          if (started || !notStartedYet(error)) throw error;
        }
      }
    } else if (isTerminalJobStatus(current.status)) {
      return;
    }
    try {
      current = await deps.refresh(current);
    } catch (error) {
      if (!(isSandboxError(error) && /^Upstream/.test(error.code))) throw error;
    }
    if (isTerminalJobStatus(current.status) && !current.logs) {
      // Ended before its container wrote anything we could follow (FailedCreate, image pull, canceled).
      const text = await deps.readCaptured(current).catch(() => "");
      if (text.length > 0) yield text;
      return;
    }
    if (!current.logs) await pause(waitMs, signal);
  }
}
