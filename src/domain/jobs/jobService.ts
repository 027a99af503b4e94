/**
 * The Jobs use-cases: `submitJob`, `getJob`, `getJobLogs`, `cancelJob`,
 * `listJobs` and the job timer's `reconcileJobs`. A façade: submission lives
 * in `JobSubmitter` (jobSubmitter.ts), refreshing rows from clusters and the
 * timer's pass in `JobReconciler` (jobReconciler.ts). Talks to the job store,
 * the cluster's Kubernetes API and the job-slot quota through ports only.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../identity/principal.js";
import { hasRole } from "../identity/roles.js";
import type { ClusterKubernetesFactory, ClusterRef } from "../kubernetes/clusterKubernetes.js";
import { authorizeClusterAccess, resourceNotFound, teamFilter } from "../policy/authorization.js";
import type { SandboxPolicy } from "../policy/policy.js";
import { SandboxError, isSandboxError } from "../sandboxError.js";
import { JOB_ID_LABEL } from "./jobManifest.js";
import { jobApiId, tailLog, type JobRecord } from "./jobRecord.js";
import { JobReconciler, newest, withState, type JobReconcileReport } from "./jobReconciler.js";
import { isTerminalJobStatus, type JobState, type JobStatus } from "./jobStatus.js";
import type { JobPage, JobStore } from "./jobStore.js";
import type { JobSubmissionBody } from "./jobSubmission.js";
import { JobSubmitter } from "./jobSubmitter.js";
import type { JobSlotQuota } from "./jobSlotQuota.js";
import { followJobLog } from "./jobLogFollower.js";
import type { NamespaceContainment } from "../containment/namespaceContainment.js";

export type { JobSlotQuota } from "./jobSlotQuota.js";

/**
 * `getJobLogs` of a live job without `limitBytes` reads at most this much from the cluster (1 MiB, from the start of
 * the selected lines, as Kubernetes' `limitBytes`), so one request never holds a whole log in memory.
 */
export const DEFAULT_LIVE_LOG_LIMIT_BYTES = 1024 * 1024;
export type { JobReconcileReport } from "./jobReconciler.js";

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
  /**
   * The contained namespace (PSA, NetworkPolicies, quota, LimitRange,
   * ServiceAccount) and the cluster's network policy engine. Absent (unit
   * tests with fakes): namespaces are only created, engines not checked.
   */
  containment?: NamespaceContainment;
}

export class JobService {
  readonly #store: JobStore;
  readonly #kubernetes: ClusterKubernetesFactory;
  readonly #policy: SandboxPolicy;
  readonly #now: () => Date;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #submitter: JobSubmitter;
  readonly #reconciler: JobReconciler;

  constructor(deps: JobServiceDependencies) {
    this.#store = deps.store;
    this.#kubernetes = deps.kubernetes;
    this.#policy = deps.policy;
    this.#now = deps.now ?? (() => new Date());
    this.#log = deps.log ?? (() => undefined);
    const common = {
      store: deps.store,
      kubernetes: deps.kubernetes,
      slots: deps.slots,
      policy: deps.policy,
      now: this.#now,
      log: this.#log,
      containment: deps.containment,
    };
    this.#reconciler = new JobReconciler(common);
    this.#submitter = new JobSubmitter({
      ...common,
      runtimeClassName: deps.runtimeClassName,
      random: deps.random ?? ((n) => randomBytes(n).toString("hex")),
    });
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
  submit(input: {
    principal: Principal;
    cluster: ClusterRef;
    body: JobSubmissionBody;
    requestId: string;
    submissionKey?: string;
  }): Promise<JobRecord> {
    return this.#submitter.submit(input);
  }

  /**
   * Finds the caller's job. A non-Admin sees only their team's jobs (`team`, when given, must be theirs). An Admin
   * names the team with `team`; without it the job must exist in exactly one team: a name that several teams use
   * answers 409 naming them rather than picking one (an Admin cancel must never hit the wrong team's job).
   * @throws SandboxError `NotFound` (also for other teams' jobs), `Conflict` (Admin, name in several teams).
   */
  async #find(principal: Principal, cluster: ClusterRef, name: string, team?: string): Promise<JobRecord> {
    authorizeClusterAccess(principal, this.#policy, cluster, "read");
    const admin = hasRole(principal, "Sandbox.Admin");
    if (team !== undefined) {
      const found = admin || team === principal.team ? await this.#store.get(team, cluster, name) : undefined;
      if (found) return found;
      throw resourceNotFound("job", name);
    }
    if (admin) {
      const any = await this.#store.findAnyTeam(cluster, name);
      if (any.length > 1) {
        const teams = [...new Set(any.map((r) => r.team))].sort();
        throw new SandboxError(
          "Conflict",
          `Job "${name}" exists in teams ${teams.join(", ")} on cluster "${cluster.clusterName}"; add ?team=<team> to say which one.`,
          { target: "query.team" },
        );
      }
      if (any[0]) return any[0];
    } else if (principal.team !== undefined) {
      const own = await this.#store.get(principal.team, cluster, name);
      if (own) return own;
    }
    throw resourceNotFound("job", name);
  }

  /**
   * `getJob`: the job, refreshed from the cluster while it is not finished
   * (a finished job's row is final). When the cluster cannot be reached the
   * last known state is returned.
   */
  async get(input: {
    principal: Principal;
    cluster: ClusterRef;
    name: string;
    team?: string | undefined;
  }): Promise<JobRecord> {
    const record = await this.#find(input.principal, input.cluster, input.name, input.team);
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

  /** Reads the job's state from its cluster and stores it (see {@link JobReconciler.refresh}). */
  refresh(record: JobRecord): Promise<JobRecord> {
    return this.#reconciler.refresh(record);
  }

  /**
   * `getJobLogs`: the container log as text. While the pod exists it is read
   * from the cluster; afterwards (Kubernetes deleted the Job after its TTL,
   * or it was canceled) from the captured tail.
   * @param tailLines last lines only; @param limitBytes at most this many bytes (after `tailLines`); a live
   * log is read with {@link DEFAULT_LIVE_LOG_LIMIT_BYTES} when it is not given.
   */
  async logs(input: {
    principal: Principal;
    cluster: ClusterRef;
    name: string;
    team?: string | undefined;
    tailLines?: number | undefined;
    limitBytes?: number | undefined;
  }): Promise<string> {
    const record = await this.#find(input.principal, input.cluster, input.name, input.team);
    const options = {
      ...(input.tailLines !== undefined ? { tailLines: input.tailLines } : {}),
      ...(input.limitBytes !== undefined ? { limitBytes: input.limitBytes } : {}),
    };
    if (record.logs) return tailLog(await this.#store.readLogs(record), options);
    const k8s = await this.#kubernetes.forCluster(record.cluster);
    const job = await k8s.getJob(record.namespace, record.name);
    if (job && job.metadata?.labels?.[JOB_ID_LABEL] === record.uid) {
      const pod = newest(await k8s.listPods(record.namespace, `${JOB_ID_LABEL}=${record.uid}`));
      const podName = pod?.metadata?.name;
      if (!podName) return "";
      const phase = (pod.status as { phase?: string } | undefined)?.phase;
      try {
        return await k8s.readPodLog(record.namespace, podName, {
          ...options,
          limitBytes: input.limitBytes ?? DEFAULT_LIVE_LOG_LIMIT_BYTES,
        });
      } catch (error) {
        // A container still waiting (image pull, scheduling) has no log yet.
        if (
          phase === "Pending" &&
          isSandboxError(error) &&
          (error.code === "UpstreamFailed" || error.code === "NotFound")
        )
          return "";
        throw error;
      }
    }
    // Gone without a capture: refresh records the end; there is no log to show.
    if (!isTerminalJobStatus(record.status)) await this.refresh(record);
    return "";
  }

  /**
   * `getJobLogs?follow=true`: checks access now (so a refusal is a normal
   * error response), then gives the log as it is written until the job ends
   * or `signal` aborts (see `followJobLog`).
   */
  async followLogs(input: {
    principal: Principal;
    cluster: ClusterRef;
    name: string;
    team?: string | undefined;
    signal: AbortSignal;
  }): Promise<AsyncIterable<string>> {
    const record = await this.#find(input.principal, input.cluster, input.name, input.team);
    const deps = {
      kubernetes: this.#kubernetes,
      readCaptured: (r: JobRecord) => this.#store.readLogs(r),
      refresh: (r: JobRecord) => this.refresh(r),
    };
    return followJobLog(deps, record, input.signal);
  }

  /**
   * `cancelJob`: captures the log tail, deletes the Kubernetes Job with
   * background propagation (its pods go with it), records `Canceled`,
   * releases the slot. Idempotent: a finished job is returned as it is (a
   * job that finished before the cancel keeps its real outcome).
   */
  async cancel(input: {
    principal: Principal;
    cluster: ClusterRef;
    name: string;
    team?: string | undefined;
  }): Promise<JobRecord> {
    let record = await this.#find(input.principal, input.cluster, input.name, input.team);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (isTerminalJobStatus(record.status)) {
        await this.#reconciler.finish(record);
        return record;
      }
      const k8s = await this.#kubernetes.forCluster(record.cluster);
      const seen = await this.#reconciler.observe(k8s, record);
      const now = this.#now().toISOString();
      let next: JobRecord | undefined;
      if (seen.state && isTerminalJobStatus(seen.state.status)) {
        next = await this.refresh(record);
        return next;
      }
      const tail = seen.state
        ? await this.#reconciler.captureTail(k8s, record, seen.pods)
        : { text: "", truncated: false };
      if (seen.job) await k8s.deleteJob(record.namespace, record.name, "Background");
      const canceled: JobState = {
        status: "Canceled",
        reason: "Canceled",
        message: `Canceled by ${input.principal.name}.`,
        finishedAt: now,
      };
      if (seen.state?.startedAt) canceled.startedAt = seen.state.startedAt;
      next = await this.#store.updateWithLogs(withState(record, canceled, now), tail.text, tail.truncated);
      if (next) {
        await this.#reconciler.finish(next);
        this.#log({
          msg: "job canceled",
          team: next.team,
          cluster: next.cluster.clusterName,
          job: next.name,
          uid: next.uid,
        });
        return next;
      }
      const reread = await this.#store.get(record.team, record.cluster, record.name);
      if (!reread) throw resourceNotFound("job", input.name);
      record = reread;
    }
    throw new SandboxError("Conflict", `Job "${input.name}" is changing concurrently; retry the cancel.`, {
      retryAfterSeconds: 1,
    });
  }

  /** `listJobs`: the caller's team's jobs (Admin: all teams') from the job rows, one page. */
  async list(input: {
    principal: Principal;
    cluster?: ClusterRef | undefined;
    clusterName?: string | undefined;
    status?: JobStatus | undefined;
    top: number;
    continuationToken?: string | undefined;
  }): Promise<JobPage> {
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

  /** The job timer's pass (see {@link JobReconciler.reconcileJobs}). */
  reconcileJobs(options: { limit?: number; concurrency?: number } = {}): Promise<JobReconcileReport> {
    return this.#reconciler.reconcileJobs(options);
  }

  /** The cluster-scoped id of a job (API path below `/api/v1`). */
  static id(cluster: ClusterRef, name: string): string {
    return jobApiId(cluster, name);
  }
}
