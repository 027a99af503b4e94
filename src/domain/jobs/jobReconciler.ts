/**
 * The job timer's half of the Jobs use-cases: reads a job's state from its
 * cluster and records it (`refresh`), captures the log tail of a finished
 * job, releases its slot and clears its active pointer, and runs the timer's
 * pass over every unfinished job (`reconcileJobs`), which also repairs the
 * containment of namespaces with active jobs. `JobService` (the façade the
 * HTTP layer calls) uses it for reads, log reads and cancels.
 */
import type { ClusterKubernetes, ClusterKubernetesFactory, KubernetesObject } from "../kubernetes/clusterKubernetes.js";
import { isClusterGone } from "../kubernetes/clusterKubernetes.js";
import { namespaceFor, type SandboxPolicy } from "../policy/policy.js";
import { isSandboxError } from "../sandboxError.js";
import { PENDING_LEASE_MS } from "../operations/repeatability.js";
import { JOB_ID_LABEL } from "./jobManifest.js";
import { readLogEnd } from "./readLogEnd.js";
import { jobApiId, lastBytes, MAX_CAPTURED_LOG_BYTES, type JobRecord } from "./jobRecord.js";
import { isTerminalJobStatus, jobStateFrom, type JobState } from "./jobStatus.js";
import type { ActiveJobKey, JobStore } from "./jobStore.js";
import type { JobSlotQuota } from "./jobSlotQuota.js";
import type { NamespaceContainment } from "../containment/namespaceContainment.js";

export interface JobReconcilerDependencies {
  store: JobStore;
  kubernetes: ClusterKubernetesFactory;
  slots: JobSlotQuota;
  policy: SandboxPolicy;
  now: () => Date;
  log: (event: Record<string, unknown>) => void;
  /** Absent (unit tests with fakes): no containment repair. */
  containment?: NamespaceContainment | undefined;
}

/** Lines read from a finished pod to capture its tail (then cut to 256 KiB). */
const CAPTURE_TAIL_LINES = 20_000;
/** Bytes read from a finished pod at most per read (the Kubernetes API cuts from the start of the tail: see `readLogEnd`). */
const CAPTURE_READ_BYTES = 4 * 1024 * 1024;

/**
 * How long a new row may exist without its Kubernetes Job (the submission creates the row first), wall ms. Longer
 * than a submission takes by far: when its instance dies between row and Job, a retry of the request takes over
 * once the repeatability lease has run out and a waiting retry gave up (≈ 80 s), and creates the Job itself.
 */
const CREATION_GRACE_MS = PENDING_LEASE_MS * 3;
/** How long an active-job pointer may exist without its row (the submission writes both at once), wall ms. */
const POINTER_GRACE_MS = 60_000;

/** Figures of one {@link JobReconciler.reconcileJobs} pass. */
export interface JobReconcileReport {
  active: number;
  refreshed: number;
  finished: number;
  failed: number;
}

export function newest(pods: readonly KubernetesObject[]): KubernetesObject | undefined {
  return [...pods].sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? "").localeCompare(String(a.metadata?.creationTimestamp ?? "")),
  )[0];
}

function stateFields(state: JobState): JobState {
  const out: JobState = { status: state.status };
  if (state.exitCode !== undefined) out.exitCode = state.exitCode;
  if (state.reason !== undefined) out.reason = state.reason;
  if (state.message !== undefined) out.message = state.message;
  if (state.startedAt !== undefined) out.startedAt = state.startedAt;
  if (state.finishedAt !== undefined) out.finishedAt = state.finishedAt;
  return out;
}

export function withState(record: JobRecord, state: JobState, now: string): JobRecord {
  const { exitCode: _e, reason: _r, message: _m, startedAt: _s, finishedAt: _f, ...rest } = record;
  return { ...rest, ...stateFields(state), startedAt: state.startedAt ?? record.startedAt, refreshedAt: now };
}

/** What a cluster says about a job right now. */
export interface Observation {
  job: KubernetesObject | undefined;
  pods: KubernetesObject[];
  state: JobState | undefined;
}

export class JobReconciler {
  readonly #store: JobStore;
  readonly #kubernetes: ClusterKubernetesFactory;
  readonly #slots: JobSlotQuota;
  readonly #policy: SandboxPolicy;
  readonly #now: () => Date;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #containment: NamespaceContainment | undefined;

  constructor(deps: JobReconcilerDependencies) {
    this.#store = deps.store;
    this.#kubernetes = deps.kubernetes;
    this.#slots = deps.slots;
    this.#policy = deps.policy;
    this.#now = deps.now;
    this.#log = deps.log;
    this.#containment = deps.containment;
  }

  /** What the cluster says about the job now (no Job, or another submission's: nothing). */
  async observe(k8s: ClusterKubernetes, record: JobRecord): Promise<Observation> {
    const job = await k8s.getJob(record.namespace, record.name);
    // A Job of the same name but another submission is not ours.
    if (!job || job.metadata?.labels?.[JOB_ID_LABEL] !== record.uid)
      return { job: undefined, pods: [], state: undefined };
    const pods = await k8s.listPods(record.namespace, `${JOB_ID_LABEL}=${record.uid}`);
    const names = new Set([record.name, ...pods.map((p) => p.metadata?.name ?? "")].filter((n) => n !== ""));
    // Each object's own events (field selector involvedObject.name), at once: listing the namespace's
    // events read every other job's too, for each job observed — quadratic in the namespace's jobs, as
    // the job timer observes them all (profiled: most of the host's CPU once a few hundred jobs ran).
    const lists = await Promise.all([...names].map((name) => k8s.listEvents(record.namespace, name)));
    const events = lists
      .flat()
      .filter((e) => names.has(String((e.involvedObject as { name?: string } | undefined)?.name ?? "")));
    return { job, pods, state: jobStateFrom(job, pods, events) };
  }

  /** The newest pod's log tail, cut to 256 KiB; empty when no container ever started. */
  async captureTail(
    k8s: ClusterKubernetes,
    record: JobRecord,
    pods: readonly KubernetesObject[],
  ): Promise<{ text: string; truncated: boolean }> {
    const pod = newest(pods);
    const podName = pod?.metadata?.name;
    if (!podName) return { text: "", truncated: false };
    try {
      const end = await readLogEnd((options) => k8s.readPodLog(record.namespace, podName, options), {
        maxLines: CAPTURE_TAIL_LINES,
        maxBytes: CAPTURE_READ_BYTES,
      });
      const tail = lastBytes(end.text, MAX_CAPTURED_LOG_BYTES);
      return { text: tail.text, truncated: tail.truncated || end.shortened };
    } catch (error) {
      // A container that never started has no log (400/404): nothing to capture.
      if (isSandboxError(error) && (error.code === "NotFound" || error.code === "UpstreamFailed"))
        return { text: "", truncated: false };
      throw error;
    }
  }

  /**
   * Reads the job's state from its cluster and stores it. When the job has
   * finished: captures the log tail (≤ 256 KiB) in the same row update,
   * releases the job slot and clears the active pointer. A job whose
   * Kubernetes Job vanished before its end was seen ends `Failed` with
   * reason `Deleted`. Idempotent; a concurrent writer wins (its row is
   * returned).
   */
  async refresh(record: JobRecord): Promise<JobRecord> {
    if (isTerminalJobStatus(record.status)) {
      await this.finish(record);
      return record;
    }
    const now = this.#now().toISOString();
    let k8s: ClusterKubernetes;
    let seen: Observation;
    try {
      k8s = await this.#kubernetes.forCluster(record.cluster);
      seen = await this.observe(k8s, record);
    } catch (error) {
      if (!isClusterGone(error)) throw error;
      return this.#endWithClusterGone(record, now);
    }
    let next: JobRecord | undefined;
    if (!seen.state) {
      // Submission records the row before it creates the Job: give a young row time.
      if (record.refreshedAt === undefined && this.#now().getTime() - Date.parse(record.createdAt) < CREATION_GRACE_MS)
        return record;
      // The Job vanished: was it the whole cluster? (Cached credentials would not tell.)
      this.#kubernetes.forget(record.cluster);
      try {
        await this.#kubernetes.forCluster(record.cluster);
      } catch (error) {
        if (isClusterGone(error)) return this.#endWithClusterGone(record, now);
        throw error;
      }
      next = await this.#store.update(
        withState(
          record,
          {
            status: "Failed",
            reason: "Deleted",
            message: "The Kubernetes Job was deleted before its outcome was recorded.",
            finishedAt: now,
          },
          now,
        ),
      );
    } else if (isTerminalJobStatus(seen.state.status)) {
      const tail = await this.captureTail(k8s, record, seen.pods);
      next = await this.#store.updateWithLogs(withState(record, seen.state, now), tail.text, tail.truncated);
    } else if (
      JSON.stringify(stateFields(seen.state)) !== JSON.stringify(stateFields(record)) ||
      record.refreshedAt === undefined
    ) {
      next = await this.#store.update(withState(record, seen.state, now));
    } else {
      return record;
    }
    if (!next) return (await this.#store.get(record.team, record.cluster, record.name)) ?? record;
    if (isTerminalJobStatus(next.status)) await this.finish(next);
    return next;
  }

  /**
   * The job's cluster was deleted: its outcome can never be read. The job
   * ends `Failed` (`ClusterDeleted`) once — slot released, off the timer's
   * list — instead of failing on every reconcile pass.
   */
  async #endWithClusterGone(record: JobRecord, now: string): Promise<JobRecord> {
    this.#kubernetes.forget(record.cluster);
    const { clusterName, resourceGroup } = record.cluster;
    const message = `Cluster ${clusterName} (resource group ${resourceGroup}) no longer exists; the job's outcome could not be recorded.`;
    const ended = await this.#store.update(
      withState(record, { status: "Failed", reason: "ClusterDeleted", message, finishedAt: now }, now),
    );
    const final = ended ?? (await this.#store.get(record.team, record.cluster, record.name)) ?? record;
    if (isTerminalJobStatus(final.status)) await this.finish(final);
    return final;
  }

  /** The end of a job's life in our books: its slot back, off the timer's list. Idempotent. */
  async finish(record: JobRecord): Promise<void> {
    await this.#slots.releaseJobSlot(record.team, record.uid);
    await this.#store.clearActive({ team: record.team, cluster: record.cluster, name: record.name });
  }

  /**
   * The job timer: refreshes every job not known to be finished (up to
   * `limit`, `concurrency` at a time), which captures logs and releases
   * slots of jobs that have finished. Errors of one job do not stop the others.
   */
  async reconcileJobs(options: { limit?: number; concurrency?: number } = {}): Promise<JobReconcileReport> {
    const keys = await this.#store.listActive(options.limit ?? 500);
    const report: JobReconcileReport = { active: keys.length, refreshed: 0, finished: 0, failed: 0 };
    const queue = [...keys];
    const worker = async (): Promise<void> => {
      for (let key = queue.shift(); key; key = queue.shift()) {
        try {
          const done = await this.#reconcileOne(key);
          report.refreshed++;
          if (done) report.finished++;
        } catch (error) {
          report.failed++;
          this.#log({
            msg: "job reconcile failed",
            job: key.name,
            cluster: key.cluster.clusterName,
            error: isSandboxError(error) ? `${error.code}: ${error.message}` : String(error),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, () => worker()));
    await this.#repairContainment(keys);
    return report;
  }

  /**
   * Re-applies the containment of every namespace with active jobs (someone
   * may have edited a label, a policy or the quota); errors are logged.
   */
  async #repairContainment(keys: readonly ActiveJobKey[]): Promise<void> {
    if (!this.#containment) return;
    const distinct = new Map<string, ActiveJobKey>();
    for (const key of keys) distinct.set(`${key.team}|${jobApiId(key.cluster, "")}`, key);
    for (const key of distinct.values()) {
      const team = this.#policy.teams.get(key.team);
      if (!team) continue;
      try {
        const k8s = await this.#kubernetes.forCluster(key.cluster);
        await this.#containment.ensure(k8s, key.cluster, team, namespaceFor(team, key.cluster), { force: true });
      } catch (error) {
        this.#log({
          msg: "containment repair failed",
          team: key.team,
          cluster: key.cluster.clusterName,
          error: isSandboxError(error) ? `${error.code}: ${error.message}` : String(error),
        });
      }
    }
  }

  async #reconcileOne(key: ActiveJobKey): Promise<boolean> {
    const record = await this.#store.get(key.team, key.cluster, key.name);
    if (!record) {
      // Submission writes the pointer and the row at once: a young pointer's row may be on its way.
      const since = key.since === undefined ? Number.NaN : Date.parse(key.since);
      if (this.#now().getTime() - since < POINTER_GRACE_MS) return false;
      await this.#store.clearActive(key);
      return true;
    }
    const next = await this.refresh(record);
    return isTerminalJobStatus(next.status);
  }
}
