import type { KubernetesObject } from "../kubernetes/clusterKubernetes.js";

export const JOB_STATUSES = ["Pending", "Running", "Succeeded", "Failed", "Canceled", "TimedOut"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export function isTerminalJobStatus(status: JobStatus): boolean {
  return status === "Succeeded" || status === "Failed" || status === "Canceled" || status === "TimedOut";
}

/** What the API says about a job's state. */
export interface JobState {
  status: JobStatus;
  exitCode?: number;
  /** Machine-readable reason: `DeadlineExceeded`, `OOMKilled`, `ImagePullBackOff`, `FailedCreate`, `Unschedulable`, `Error`, `Completed`, … */
  reason?: string;
  /** Human-readable detail (Kubernetes' own message where it gave one). */
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

const IMAGE_PULL_REASONS = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];

function conditions(obj: KubernetesObject | undefined): Condition[] {
  return ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter(
    (c) => c.status === "True",
  );
}

function containerState(pod: KubernetesObject): ContainerState | undefined {
  const statuses =
    (pod.status as { containerStatuses?: { state?: ContainerState }[] } | undefined)?.containerStatuses ?? [];
  return statuses[0]?.state;
}

/** Newest pod first (by creation time). */
function newestFirst(pods: readonly KubernetesObject[]): KubernetesObject[] {
  return [...pods].sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? "").localeCompare(String(a.metadata?.creationTimestamp ?? "")),
  );
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function latestWarning(events: readonly KubernetesObject[], reasons: readonly string[]): KubernetesObject | undefined {
  return [...events]
    .filter((e) => e.type === "Warning" && reasons.includes(String(e.reason)))
    .sort((a, b) =>
      (text(b.lastTimestamp) || text(b.eventTime)).localeCompare(text(a.lastTimestamp) || text(a.eventTime)),
    )[0];
}

/**
 * Maps a Job, its Pods and their Events to the API's job state, following
 * Kubernetes ≥ 1.31 conditions (`SuccessCriteriaMet`/`Complete`,
 * `FailureTarget`/`Failed`). Pure.
 * @param job undefined when the Job no longer exists (then `undefined` is returned: the caller keeps its cached state)
 */
export function jobStateFrom(
  job: KubernetesObject | undefined,
  pods: readonly KubernetesObject[],
  events: readonly KubernetesObject[],
): JobState | undefined {
  if (!job) return undefined;
  const status = (job.status ?? {}) as { startTime?: string; completionTime?: string };
  const conds = conditions(job);
  const newest = newestFirst(pods)[0];
  const state = newest ? containerState(newest) : undefined;
  const terminated = state?.terminated;
  const base: JobState = { status: "Pending" };
  if (status.startTime) base.startedAt = status.startTime;
  if (terminated?.exitCode !== undefined) base.exitCode = terminated.exitCode;

  const complete = conds.find((c) => c.type === "Complete" || c.type === "SuccessCriteriaMet");
  if (complete) {
    return {
      ...base,
      status: "Succeeded",
      reason: terminated?.reason ?? "Completed",
      ...((status.completionTime ?? complete.lastTransitionTime)
        ? { finishedAt: status.completionTime ?? complete.lastTransitionTime }
        : {}),
      exitCode: terminated?.exitCode ?? 0,
    };
  }
  const failed = conds.find((c) => c.type === "Failed") ?? conds.find((c) => c.type === "FailureTarget");
  if (failed) {
    const finishedAt = failed.lastTransitionTime ?? terminated?.finishedAt;
    if (failed.reason === "DeadlineExceeded") {
      return {
        ...base,
        status: "TimedOut",
        reason: "DeadlineExceeded",
        message: failed.message ?? "The job ran longer than its timeoutSeconds.",
        ...(finishedAt ? { finishedAt } : {}),
      };
    }
    // The kubelet evicted the pod (ephemeral storage past its limit, node pressure): say so, with its message.
    const podStatus = (newest?.status ?? {}) as { reason?: string; message?: string };
    if (podStatus.reason === "Evicted") {
      return {
        ...base,
        status: "Failed",
        reason: "Evicted",
        message: (podStatus.message ?? "The pod was evicted.").trim(),
        ...(finishedAt ? { finishedAt } : {}),
      };
    }
    const reason =
      terminated?.reason && terminated.reason !== "Error" ? terminated.reason : (failed.reason ?? "Failed");
    const message =
      terminated?.reason === "OOMKilled"
        ? "The container was killed for exceeding its memory limit (OOMKilled)."
        : (terminated?.message ?? failed.message ?? "The job failed.");
    return { ...base, status: "Failed", reason, message, ...(finishedAt ? { finishedAt } : {}) };
  }

  const phase = (newest?.status as { phase?: string } | undefined)?.phase;
  if (phase === "Running" || state?.running) return { ...base, status: "Running", reason: "Running" };
  const waiting = state?.waiting;
  if (waiting?.reason && IMAGE_PULL_REASONS.includes(waiting.reason)) {
    return {
      ...base,
      status: "Pending",
      reason: waiting.reason,
      message: waiting.message ?? `The image could not be pulled (${waiting.reason}).`,
    };
  }
  if (!newest) {
    const failedCreate = latestWarning(events, ["FailedCreate"]);
    if (failedCreate)
      return {
        ...base,
        status: "Pending",
        reason: "FailedCreate",
        message: text(failedCreate.message) || "The job controller could not create the pod.",
      };
    return { ...base, status: "Pending", reason: "Creating" };
  }
  const sandboxFailure = latestWarning(events, ["FailedCreatePodSandBox"]);
  if (sandboxFailure)
    return {
      ...base,
      status: "Pending",
      reason: "FailedCreatePodSandBox",
      message: text(sandboxFailure.message) || "The pod sandbox could not be created.",
    };
  const unschedulable = latestWarning(events, ["FailedScheduling"]);
  if (unschedulable)
    return {
      ...base,
      status: "Pending",
      reason: "Unschedulable",
      message: text(unschedulable.message) || "No node can run the pod.",
    };
  if (waiting?.reason)
    return {
      ...base,
      status: "Pending",
      reason: waiting.reason,
      ...(waiting.message ? { message: waiting.message } : {}),
    };
  return { ...base, status: "Pending", reason: "Scheduling" };
}
