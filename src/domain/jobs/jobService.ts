/**
 * The Jobs use-cases: `submitJob`, `getJob`, `getJobLogs`, `cancelJob`,
 * `listJobs` and the job timer's `reconcileJobs`. Talks to the job store,
 * the cluster's Kubernetes API and the job-slot quota through ports only.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../identity/principal.js";
import { hasRole } from "../identity/roles.js";
import type { ClusterKubernetes, ClusterKubernetesFactory, ClusterRef, KubernetesObject } from "../kubernetes/clusterKubernetes.js";
import { authorizeClusterAccess, requireTeam, resourceNotFound, teamFilter } from "../policy/authorization.js";
import { namespaceFor, type SandboxPolicy } from "../policy/policy.js";
import { SandboxError, isSandboxError } from "../sandboxError.js";
import { buildJobManifest, JOB_ID_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TEAM_LABEL } from "./jobManifest.js";
import { jobApiId, lastBytes, MAX_CAPTURED_LOG_BYTES, tailLog, type JobRecord } from "./jobRecord.js";
import { isTerminalJobStatus, jobStateFrom, type JobState, type JobStatus } from "./jobStatus.js";
import type { ActiveJobKey, JobPage, JobStore } from "./jobStore.js";
import { validateJobSubmission, type JobSubmissionBody } from "./jobSubmission.js";
import { fitsSomeNode, sandboxVmFootprint } from "./sandboxFootprint.js";

/** The slot quota as the service needs it (`JobSlots` in `policy/jobSlots.ts`). */
export interface JobSlotQuota {
  reserveJobSlot(team: string, jobId: string): Promise<void>;
  releaseJobSlot(team: string, jobId: string): Promise<boolean>;
}

export interface JobServiceDependencies {
  store: JobStore;
  kubernetes: ClusterKubernetesFactory;
  slots: JobSlotQuota;
  policy: SandboxPolicy;
  /** The flavour's sandbox RuntimeClass (`sandboxFlavor(...).runtimeClassName`); never from callers. */
  runtimeClassName: string;
  now?: () => Date;
  /** Random suffixes (tests may fix them). */
  random?: (bytes: number) => string;
  log?: (event: Record<string, unknown>) => void;
}

/** Lines read from a finished pod to capture its tail (then cut to 256 KiB). */
const CAPTURE_TAIL_LINES = 20_000;
/** Bytes read from a finished pod at most (the Kubernetes API cuts from the start of the tail). */
const CAPTURE_READ_BYTES = 4 * 1024 * 1024;

/** How long a new row may exist without its Kubernetes Job (the submission creates the row first), wall ms. */
const CREATION_GRACE_MS = 60_000;

/** Figures of one {@link JobService.reconcileJobs} pass. */
export interface JobReconcileReport {
  active: number;
  refreshed: number;
  finished: number;
  failed: number;
}

function newest(pods: readonly KubernetesObject[]): KubernetesObject | undefined {
  return [...pods].sort((a, b) => String(b.metadata?.creationTimestamp ?? "").localeCompare(String(a.metadata?.creationTimestamp ?? "")))[0];
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

function withState(record: JobRecord, state: JobState, now: string): JobRecord {
  const { exitCode: _e, reason: _r, message: _m, startedAt: _s, finishedAt: _f, ...rest } = record;
  return { ...rest, ...stateFields(state), startedAt: state.startedAt ?? record.startedAt, refreshedAt: now };
}

/** What a cluster says about a job right now. */
interface Observation {
  job: KubernetesObject | undefined;
  pods: KubernetesObject[];
  state: JobState | undefined;
}

export class JobService {
  readonly #store: JobStore;
  readonly #kubernetes: ClusterKubernetesFactory;
  readonly #slots: JobSlotQuota;
  readonly #policy: SandboxPolicy;
  readonly #runtimeClassName: string;
  readonly #now: () => Date;
  readonly #random: (bytes: number) => string;
  readonly #log: (event: Record<string, unknown>) => void;

  constructor(deps: JobServiceDependencies) {
    this.#store = deps.store;
    this.#kubernetes = deps.kubernetes;
    this.#slots = deps.slots;
    this.#policy = deps.policy;
    this.#runtimeClassName = deps.runtimeClassName;
    this.#now = deps.now ?? (() => new Date());
    this.#random = deps.random ?? ((n) => randomBytes(n).toString("hex"));
    this.#log = deps.log ?? (() => undefined);
  }

  /**
   * `submitJob`: validates everything, checks the cluster (sandbox runtime
   * class, a sandbox node that holds the job's VM, no clash of names), takes
   * a job slot, records the row and creates the namespace (if missing) and
   * the Job. Any failure after the slot was taken undoes the row and the slot:
   * nothing is left half-made.
   * @throws SandboxError `InvalidRequest`, `HostNetworkNotSupported`,
   * `Forbidden`, `QuotaExceeded` (see `validateJobSubmission`; before any
   * cluster call), `NotFound` (cluster), `SandboxNotReady` (no runtime class
   * or no ready sandbox node), `SandboxTooLarge`, `Conflict` (a job of that
   * name exists), `QuotaExceeded` (concurrent jobs), upstream errors.
   */
  async submit(input: { principal: Principal; cluster: ClusterRef; body: JobSubmissionBody; requestId: string }): Promise<JobRecord> {
    const { principal, cluster, body } = input;
    authorizeClusterAccess(principal, this.#policy, cluster, "change");
    const team = requireTeam(principal, this.#policy);
    const namespace = namespaceFor(team, cluster);
    const spec = validateJobSubmission(body, { principal, team, generateName: () => `job-${this.#random(4)}` });

    const k8s = await this.#kubernetes.forCluster(cluster);
    let sandboxVm;
    if (spec.isolation === "sandbox") {
      const runtimeClass = await k8s.getRuntimeClass(this.#runtimeClassName);
      if (!runtimeClass) {
        throw new SandboxError(
          "SandboxNotReady",
          `Cluster "${cluster.clusterName}" has no RuntimeClass "${this.#runtimeClassName}", so a sandboxed pod would never schedule. Create a sandbox pool first (PUT …/clusters/${cluster.clusterName}/sandbox-pools/{poolName}).`,
          { target: "clusterName" },
        );
      }
      const selector = Object.entries(runtimeClass.nodeSelector).map(([k, v]) => `${k}=${v}`).join(",");
      const nodes = (await k8s.listNodes(selector || undefined)).filter((n) => n.ready);
      if (nodes.length === 0) {
        throw new SandboxError("SandboxNotReady", `Cluster "${cluster.clusterName}" has no ready sandbox node. Create or scale up a sandbox pool.`, { target: "clusterName" });
      }
      sandboxVm = sandboxVmFootprint(spec.cpuLimit, spec.memoryLimitMiB);
      if (!fitsSomeNode(sandboxVm, nodes)) {
        const biggest = [...nodes].sort((a, b) => b.allocatableMemoryMiB - a.allocatableMemoryMiB)[0]!;
        throw new SandboxError(
          "SandboxTooLarge",
          `The job's sandbox VM (${sandboxVm.vCpu} vCPU, ${sandboxVm.memoryMiB} MiB: 1 vCPU + limits.cpu, 2 GiB + limits.memory) fits no sandbox node of cluster "${cluster.clusterName}" (largest allocatable: ${biggest.allocatableMilliCpu / 1000} vCPU, ${biggest.allocatableMemoryMiB} MiB). Lower the limits or add a pool with a larger VM size.`,
          { target: "body.resources.limits" },
        );
      }
    }

    const existing = await this.#store.get(team.name, cluster, spec.name);
    const liveJob = await k8s.getJob(namespace, spec.name);
    if (liveJob || (existing && !isTerminalJobStatus(existing.status))) {
      throw new SandboxError("Conflict", `A job named "${spec.name}" already exists on cluster "${cluster.clusterName}"; choose another name or cancel it first.`, { target: "body.name" });
    }
    // A finished job whose Kubernetes Job is gone gives up its name (and its captured logs).
    if (existing) await this.#store.delete(existing);

    const uid = `j-${this.#random(8)}`;
    const now = this.#now().toISOString();
    const record: JobRecord = {
      team: team.name,
      cluster: { ...cluster },
      name: spec.name,
      namespace,
      uid,
      isolation: spec.isolation,
      runtimeClassName: spec.isolation === "sandbox" ? this.#runtimeClassName : undefined,
      sandboxVm,
      image: spec.image,
      status: "Pending",
      reason: "Creating",
      createdAt: now,
      createdBy: principal.id,
      requestId: input.requestId,
      warnings: spec.warnings,
      refreshedAt: undefined,
      logs: undefined,
    };
    await this.#slots.reserveJobSlot(team.name, uid);
    let stored: JobRecord;
    try {
      stored = await this.#store.insert(record);
    } catch (error) {
      await this.#slots.releaseJobSlot(team.name, uid).catch(() => undefined);
      throw error;
    }
    try {
      await k8s.ensureNamespace(namespace, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TEAM_LABEL]: team.name });
      await k8s.createJob(
        namespace,
        buildJobManifest({
          name: spec.name,
          namespace,
          image: spec.image,
          command: spec.command,
          args: spec.args,
          env: spec.env,
          limits: spec.limits,
          requests: spec.requests,
          runtimeClassName: record.runtimeClassName,
          timeoutSeconds: spec.timeoutSeconds,
          ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished,
          backoffLimit: spec.backoffLimit,
          runAsNonRoot: spec.runAsNonRoot,
          team: team.name,
          jobId: uid,
          requestId: input.requestId,
        }),
      );
    } catch (error) {
      await this.#store.delete(stored).catch(() => undefined);
      await this.#slots.releaseJobSlot(team.name, uid).catch(() => undefined);
      if (isSandboxError(error) && error.code === "Conflict") {
        throw new SandboxError("Conflict", `A job named "${spec.name}" already exists on cluster "${cluster.clusterName}".`, { target: "body.name" });
      }
      throw error;
    }
    this.#log({ msg: "job submitted", team: team.name, cluster: cluster.clusterName, job: spec.name, uid, isolation: spec.isolation });
    return stored;
  }

  /** Finds the caller's job (Admin: any team's). @throws SandboxError `NotFound` (also for other teams' jobs). */
  async #find(principal: Principal, cluster: ClusterRef, name: string): Promise<JobRecord> {
    authorizeClusterAccess(principal, this.#policy, cluster, "read");
    if (principal.team !== undefined) {
      const own = await this.#store.get(principal.team, cluster, name);
      if (own) return own;
    }
    if (hasRole(principal, "Sandbox.Admin")) {
      const any = await this.#store.findAnyTeam(cluster, name);
      if (any[0]) return any[0];
    }
    throw resourceNotFound("job", name);
  }

  /**
   * `getJob`: the job, refreshed from the cluster while it is not finished
   * (a finished job's row is final). When the cluster cannot be reached the
   * last known state is returned.
   */
  async get(input: { principal: Principal; cluster: ClusterRef; name: string }): Promise<JobRecord> {
    const record = await this.#find(input.principal, input.cluster, input.name);
    if (isTerminalJobStatus(record.status)) return record;
    try {
      return await this.refresh(record);
    } catch (error) {
      if (isSandboxError(error) && /^Upstream/.test(error.code)) {
        this.#log({ msg: "job refresh failed; answering the cached state", job: record.name, code: error.code });
        return record;
      }
      throw error;
    }
  }

  async #observe(k8s: ClusterKubernetes, record: JobRecord): Promise<Observation> {
    const job = await k8s.getJob(record.namespace, record.name);
    // A Job of the same name but another submission is not ours.
    if (!job || job.metadata?.labels?.[JOB_ID_LABEL] !== record.uid) return { job: undefined, pods: [], state: undefined };
    const pods = await k8s.listPods(record.namespace, `${JOB_ID_LABEL}=${record.uid}`);
    const names = new Set([record.name, ...pods.map((p) => p.metadata?.name ?? "")]);
    const events = (await k8s.listEvents(record.namespace)).filter((e) => names.has(String((e.involvedObject as { name?: string } | undefined)?.name ?? "")));
    return { job, pods, state: jobStateFrom(job, pods, events) };
  }

  async #captureTail(k8s: ClusterKubernetes, record: JobRecord, pods: readonly KubernetesObject[]): Promise<{ text: string; truncated: boolean }> {
    const pod = newest(pods);
    const podName = pod?.metadata?.name;
    if (!podName) return { text: "", truncated: false };
    try {
      const raw = await k8s.readPodLog(record.namespace, podName, { tailLines: CAPTURE_TAIL_LINES, limitBytes: CAPTURE_READ_BYTES });
      return lastBytes(raw, MAX_CAPTURED_LOG_BYTES);
    } catch (error) {
      // A container that never started has no log (400/404): nothing to capture.
      if (isSandboxError(error) && (error.code === "NotFound" || error.code === "UpstreamFailed")) return { text: "", truncated: false };
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
      await this.#finish(record);
      return record;
    }
    const k8s = await this.#kubernetes.forCluster(record.cluster);
    const seen = await this.#observe(k8s, record);
    const now = this.#now().toISOString();
    let next: JobRecord | undefined;
    if (!seen.state) {
      // Submission records the row before it creates the Job: give a young row time.
      if (record.refreshedAt === undefined && this.#now().getTime() - Date.parse(record.createdAt) < CREATION_GRACE_MS) return record;
      next = await this.#store.update(
        withState(record, { status: "Failed", reason: "Deleted", message: "The Kubernetes Job was deleted before its outcome was recorded.", finishedAt: now }, now),
      );
    } else if (isTerminalJobStatus(seen.state.status)) {
      const tail = await this.#captureTail(k8s, record, seen.pods);
      next = await this.#store.updateWithLogs(withState(record, seen.state, now), tail.text, tail.truncated);
    } else if (JSON.stringify(stateFields(seen.state)) !== JSON.stringify(stateFields(record)) || record.refreshedAt === undefined) {
      next = await this.#store.update(withState(record, seen.state, now));
    } else {
      return record;
    }
    if (!next) return (await this.#store.get(record.team, record.cluster, record.name)) ?? record;
    if (isTerminalJobStatus(next.status)) await this.#finish(next);
    return next;
  }

  /** The end of a job's life in our books: its slot back, off the timer's list. Idempotent. */
  async #finish(record: JobRecord): Promise<void> {
    await this.#slots.releaseJobSlot(record.team, record.uid);
    await this.#store.clearActive({ team: record.team, cluster: record.cluster, name: record.name });
  }

  /**
   * `getJobLogs`: the container log as text. While the pod exists it is read
   * from the cluster; afterwards (Kubernetes deleted the Job after its TTL,
   * or it was canceled) from the captured tail.
   * @param tailLines last lines only; @param limitBytes at most this many bytes (after `tailLines`).
   */
  async logs(input: { principal: Principal; cluster: ClusterRef; name: string; tailLines?: number | undefined; limitBytes?: number | undefined }): Promise<string> {
    const record = await this.#find(input.principal, input.cluster, input.name);
    const options = { ...(input.tailLines !== undefined ? { tailLines: input.tailLines } : {}), ...(input.limitBytes !== undefined ? { limitBytes: input.limitBytes } : {}) };
    if (record.logs) return tailLog(await this.#store.readLogs(record), options);
    const k8s = await this.#kubernetes.forCluster(record.cluster);
    const job = await k8s.getJob(record.namespace, record.name);
    if (job && job.metadata?.labels?.[JOB_ID_LABEL] === record.uid) {
      const pod = newest(await k8s.listPods(record.namespace, `${JOB_ID_LABEL}=${record.uid}`));
      const podName = pod?.metadata?.name;
      if (!podName) return "";
      const phase = (pod.status as { phase?: string } | undefined)?.phase;
      try {
        return await k8s.readPodLog(record.namespace, podName, options);
      } catch (error) {
        // A container still waiting (image pull, scheduling) has no log yet.
        if (phase === "Pending" && isSandboxError(error) && (error.code === "UpstreamFailed" || error.code === "NotFound")) return "";
        throw error;
      }
    }
    // Gone without a capture: refresh records the end; there is no log to show.
    if (!isTerminalJobStatus(record.status)) await this.refresh(record);
    return "";
  }

  /**
   * `cancelJob`: captures the log tail, deletes the Kubernetes Job with
   * background propagation (its pods go with it), records `Canceled`,
   * releases the slot. Idempotent: a finished job is returned as it is (a
   * job that finished before the cancel keeps its real outcome).
   */
  async cancel(input: { principal: Principal; cluster: ClusterRef; name: string }): Promise<JobRecord> {
    let record = await this.#find(input.principal, input.cluster, input.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (isTerminalJobStatus(record.status)) {
        await this.#finish(record);
        return record;
      }
      const k8s = await this.#kubernetes.forCluster(record.cluster);
      const seen = await this.#observe(k8s, record);
      const now = this.#now().toISOString();
      let next: JobRecord | undefined;
      if (seen.state && isTerminalJobStatus(seen.state.status)) {
        next = await this.refresh(record);
        return next;
      }
      const tail = seen.state ? await this.#captureTail(k8s, record, seen.pods) : { text: "", truncated: false };
      if (seen.job) await k8s.deleteJob(record.namespace, record.name, "Background");
      const canceled: JobState = { status: "Canceled", reason: "Canceled", message: `Canceled by ${input.principal.name}.`, finishedAt: now };
      if (seen.state?.startedAt) canceled.startedAt = seen.state.startedAt;
      next = await this.#store.updateWithLogs(withState(record, canceled, now), tail.text, tail.truncated);
      if (next) {
        await this.#finish(next);
        this.#log({ msg: "job canceled", team: next.team, cluster: next.cluster.clusterName, job: next.name, uid: next.uid });
        return next;
      }
      const reread = await this.#store.get(record.team, record.cluster, record.name);
      if (!reread) throw resourceNotFound("job", input.name);
      record = reread;
    }
    throw new SandboxError("Conflict", `Job "${input.name}" is changing concurrently; retry the cancel.`, { retryAfterSeconds: 1 });
  }

  /** `listJobs`: the caller's team's jobs (Admin: all teams') from the job rows, one page. */
  async list(input: { principal: Principal; cluster?: ClusterRef | undefined; clusterName?: string | undefined; status?: JobStatus | undefined; top: number; continuationToken?: string | undefined }): Promise<JobPage> {
    const filter = teamFilter(input.principal);
    return this.#store.list({
      team: filter.allTeams ? undefined : filter.team,
      cluster: input.cluster,
      clusterName: input.clusterName,
      status: input.status,
      top: input.top,
      continuationToken: input.continuationToken,
    });
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
          this.#log({ msg: "job reconcile failed", job: key.name, cluster: key.cluster.clusterName, error: isSandboxError(error) ? `${error.code}: ${error.message}` : String(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, () => worker()));
    return report;
  }

  async #reconcileOne(key: ActiveJobKey): Promise<boolean> {
    const record = await this.#store.get(key.team, key.cluster, key.name);
    if (!record) {
      await this.#store.clearActive(key);
      return true;
    }
    const next = await this.refresh(record);
    return isTerminalJobStatus(next.status);
  }

  /** The cluster-scoped id of a job (API path below `/api/v1`). */
  static id(cluster: ClusterRef, name: string): string {
    return jobApiId(cluster, name);
  }
}
