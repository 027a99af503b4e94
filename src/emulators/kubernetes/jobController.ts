/**
 * The Job API and the simulated job controller of a cluster: validation and
 * defaulting of a Job, pods created from its template (through the same
 * admission as client pods), success and failure counting, back-off between
 * failed pods, `activeDeadlineSeconds`, `backoffLimit`, delete propagation
 * (Foreground, Background, Orphan) and the TTL-after-finished controller.
 */
import { randomUUID } from "node:crypto";
import { copy, type ClusterState, type JobRecord, type PodRecord } from "./clusterState.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import type { Condition, JobObject, PodObject } from "./kubernetesObjects.js";
import type { KubernetesSchemaValidator } from "./kubernetesSchemaValidator.js";
import { defaultedPodSpec } from "./podSpecDefaults.js";
import { checkBodyBasics, mergeCauses, schemaCheck } from "./schemaCheck.js";
import type { SimulatedKubelet } from "./simulatedKubelet.js";
import { validatePodSpec } from "./validatePodSpec.js";
import { invalidValue, requiredValue, validateLabels, validateObjectMeta } from "./validateObjectMeta.js";

/** Job delete propagation (`propagationPolicy`). */
export type PropagationPolicy = "Foreground" | "Background" | "Orphan";

/** A Job as saved across restarts (see {@link JobController.restore}). */
export interface SavedJob {
  job: JobObject;
  finished: boolean;
  failure?: { reason: string; message: string };
}

export class JobController {
  constructor(
    private readonly state: ClusterState,
    private readonly schemas: KubernetesSchemaValidator,
    private readonly kubelet: SimulatedKubelet,
    /** The pod admission chain (throws `KubernetesApiError` when a plugin refuses). */
    private readonly admit: (namespace: string, pod: PodObject, displayName: string) => PodObject,
  ) {}

  list(namespace: string | undefined): JobObject[] {
    return [...this.state.jobs.values()]
      .filter((r) => namespace === undefined || r.job.metadata.namespace === namespace)
      .map((r) => copy(r.job));
  }

  get(namespace: string, name: string): JobObject {
    return copy(this.#jobRecord(namespace, name).job);
  }

  #jobRecord(namespace: string, name: string): JobRecord {
    const rec = this.state.jobs.get(`${namespace}/${name}`);
    if (!rec) throw KubernetesApiError.notFound("jobs", "batch", name);
    return rec;
  }

  /** POST a Job: validation, defaulting (selector, labels, backoffLimit 6, …), then the job controller starts. */
  create(namespace: string, body: unknown, dryRun: boolean): JobObject {
    const object = checkBodyBasics(body, "Job", "batch/v1", namespace) as JobObject;
    const schemaCauses = schemaCheck(this.schemas, "Job", "batch", object);
    if (!object.spec?.template?.spec)
      throw KubernetesApiError.invalid(
        "Job",
        "batch",
        object.metadata.name ?? "",
        schemaCauses.length ? schemaCauses : [requiredValue("spec.template")],
      );
    const spec = object.spec;
    const causes = validateObjectMeta(object.metadata, "subdomain");
    const name =
      object.metadata.name ??
      this.state.generateName(object.metadata.generateName ?? "", (n) => this.state.jobs.has(`${namespace}/${n}`));
    // The job-name label on the pod template carries the name, and label values are ≤ 63 characters.
    if (name.length > 63 && causes.length === 0)
      causes.push(invalidValue("spec.template.labels", name, "must be no more than 63 characters"));
    causes.push(...validateLabels("spec.template.metadata.labels", spec.template.metadata?.labels));
    causes.push(...validatePodSpec(spec.template.spec, "spec.template.spec", ["OnFailure", "Never"]));
    for (const field of ["backoffLimit", "completions", "parallelism", "ttlSecondsAfterFinished"] as const) {
      const value = spec[field];
      if (value !== undefined && value < 0)
        causes.push(invalidValue(`spec.${field}`, value, "must be greater than or equal to 0"));
    }
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0) {
      causes.push(invalidValue("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds, "must be greater than 0"));
    }
    if (spec.selector && spec.manualSelector !== true) {
      causes.push(invalidValue("spec.selector", spec.selector, "`selector` will be auto-generated"));
    }
    const allCauses = mergeCauses(schemaCauses, causes);
    if (allCauses.length) throw KubernetesApiError.invalid("Job", "batch", name, allCauses);
    this.state.requireNamespace(namespace);
    if (this.state.jobs.has(`${namespace}/${name}`)) throw KubernetesApiError.alreadyExists("jobs", "batch", name);

    const uid = randomUUID();
    const controllerLabels = {
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name,
    };
    const job: JobObject = {
      ...object,
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        ...object.metadata,
        name,
        namespace,
        uid,
        resourceVersion: this.state.nextResourceVersion(),
        generation: 1,
        creationTimestamp: this.state.now(),
        labels: { ...controllerLabels, ...(object.metadata.labels ?? {}) },
      },
      spec: {
        ...spec,
        parallelism: spec.parallelism ?? 1,
        completions: spec.completions ?? 1,
        backoffLimit: spec.backoffLimit ?? 6,
        completionMode: spec.completionMode ?? "NonIndexed",
        suspend: spec.suspend ?? false,
        podReplacementPolicy: spec.podReplacementPolicy ?? "TerminatingOrFailed",
        manualSelector: spec.manualSelector,
        selector: spec.selector ?? { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
        template: {
          ...spec.template,
          metadata: {
            ...(spec.template.metadata ?? {}),
            labels: { ...(spec.template.metadata?.labels ?? {}), ...controllerLabels },
          },
          spec: defaultedPodSpec(spec.template.spec),
        },
      },
      status: {},
    };
    if (job.metadata.generateName) delete job.metadata.generateName;
    if (job.spec.manualSelector === undefined) delete job.spec.manualSelector;
    if (dryRun) return copy(job);
    const rec: JobRecord = {
      job,
      countedSucceeded: new Set(),
      countedFailed: new Set(),
      nextCreateAtMs: 0,
      createFailures: 0,
      timerPending: false,
      failure: undefined,
      foregroundDeleting: false,
      finished: false,
      reconcileQueued: false,
    };
    this.state.jobs.set(`${namespace}/${name}`, rec);
    if (!job.spec.suspend) {
      job.status = { startTime: this.state.now(), active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {} };
      const deadline = job.spec.activeDeadlineSeconds;
      if (deadline !== undefined) this.state.after(deadline, () => this.#queueReconcile(rec));
    }
    this.#reconcileJob(rec);
    return copy(job);
  }

  /**
   * DELETE a Job. `Background`: the Job goes now, its pods are deleted
   * afterwards. `Foreground`: the Job stays (deletionTimestamp, finalizer
   * `foregroundDeletion`) until its pods are gone. `Orphan` (the batch/v1
   * default when no policy is given): the pods stay, without owner.
   * Returns the Job when it still exists, else `undefined`.
   */
  delete(namespace: string, name: string, policy: PropagationPolicy, dryRun = false): JobObject | undefined {
    const rec = this.#jobRecord(namespace, name);
    if (dryRun) return copy(rec.job);
    const pods = this.podsOf(rec);
    if (policy === "Foreground") {
      if (!rec.foregroundDeleting) {
        rec.foregroundDeleting = true;
        rec.job.metadata.deletionTimestamp = this.state.now();
        rec.job.metadata.deletionGracePeriodSeconds = 0;
        rec.job.metadata.finalizers = [...(rec.job.metadata.finalizers ?? []), "foregroundDeletion"];
        this.state.bump(rec.job);
        for (const pod of pods) this.kubelet.terminatePod(pod);
      }
      this.#finishForeground(rec);
      return this.state.jobs.has(`${namespace}/${name}`) ? copy(rec.job) : undefined;
    }
    this.state.jobs.delete(`${namespace}/${name}`);
    this.state.tombstone("jobs", rec.job);
    rec.finished = true;
    for (const pod of pods) {
      if (policy === "Background") this.kubelet.terminatePod(pod);
      else {
        delete pod.pod.metadata.ownerReferences;
        this.state.bump(pod.pod);
      }
    }
    return undefined;
  }

  #finishForeground(rec: JobRecord): void {
    if (!rec.foregroundDeleting) return;
    if (this.podsOf(rec).length === 0) {
      this.state.jobs.delete(`${rec.job.metadata.namespace ?? ""}/${rec.job.metadata.name ?? ""}`);
      this.state.tombstone("jobs", rec.job);
      rec.finished = true;
    }
  }

  podsOf(rec: JobRecord): PodRecord[] {
    const uid = rec.job.metadata.uid;
    return [...this.state.pods.values()].filter(
      (p) => !p.removed && p.pod.metadata.ownerReferences?.some((o) => o.uid === uid),
    );
  }

  notifyOwner(pod: PodRecord): void {
    const owner = pod.pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Job");
    if (!owner) return;
    const rec = [...this.state.jobs.values()].find((j) => j.job.metadata.uid === owner.uid);
    if (rec) this.#queueReconcile(rec);
  }

  /** Runs the job controller for `rec` once the current call stack is done. */
  #queueReconcile(rec: JobRecord): void {
    if (rec.reconcileQueued) return;
    rec.reconcileQueued = true;
    queueMicrotask(() => {
      rec.reconcileQueued = false;
      this.#reconcileJob(rec);
    });
  }

  // ---------------------------------------------------------------- jobs: controller

  /** One pass of the job controller (synchronous; timers call it again). Idempotent. */
  #reconcileJob(rec: JobRecord): void {
    const job = rec.job;
    if (!this.state.jobs.has(`${job.metadata.namespace ?? ""}/${job.metadata.name ?? ""}`)) return;
    if (rec.foregroundDeleting) {
      this.#finishForeground(rec);
      return;
    }
    if (rec.finished || job.spec.suspend) return;
    const status = (job.status ??= {});
    const pods = this.podsOf(rec);
    const nowMs = this.state.nowMs();
    let changed = false;

    // Count terminal pods (and pods deleted before finishing: they count as failed).
    for (const p of pods) {
      const uid = p.pod.metadata.uid ?? "";
      const phase = p.pod.status?.phase;
      if (phase === "Succeeded" && !rec.countedSucceeded.has(uid)) {
        rec.countedSucceeded.add(uid);
        changed = true;
      } else if (
        (phase === "Failed" || p.pod.metadata.deletionTimestamp) &&
        phase !== "Succeeded" &&
        !rec.countedFailed.has(uid)
      ) {
        rec.countedFailed.add(uid);
        changed = true;
        rec.nextCreateAtMs =
          nowMs + Math.min(360, this.state.settings.jobBackoffSeconds * 2 ** (rec.countedFailed.size - 1)) * 1000;
      }
    }
    const active = pods.filter(
      (p) =>
        !p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed",
    );
    const terminating = pods.filter(
      (p) =>
        p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed",
    );
    const restarts = active.reduce(
      (sum, p) => sum + (p.pod.status?.containerStatuses ?? []).reduce((s, c) => s + c.restartCount, 0),
      0,
    );
    const succeeded = rec.countedSucceeded.size;
    const failed = rec.countedFailed.size;
    const completions = job.spec.completions ?? 1;
    const conditions = (status.conditions ??= []);

    if (!rec.failure && succeeded < completions) {
      const deadline = job.spec.activeDeadlineSeconds;
      const started = status.startTime ? Date.parse(status.startTime) : nowMs;
      if (deadline !== undefined && nowMs >= started + deadline * 1000) {
        rec.failure = { reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
      } else if (failed + restarts > (job.spec.backoffLimit ?? 6)) {
        rec.failure = { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" };
      }
      if (rec.failure) {
        this.#setJobCondition(conditions, "FailureTarget", rec.failure.reason, rec.failure.message);
        for (const p of active) {
          this.kubelet.terminatePod(p);
          this.state.event(
            job,
            "Normal",
            "SuccessfulDelete",
            `Deleted pod: ${p.pod.metadata.name ?? ""}`,
            "job-controller",
          );
        }
        changed = true;
      }
    }

    if (rec.failure) {
      if (
        this.podsOf(rec).every(
          (p) => p.pod.status?.phase === "Succeeded" || p.pod.status?.phase === "Failed" || p.removed,
        )
      ) {
        this.#setJobCondition(conditions, "Failed", rec.failure.reason, rec.failure.message);
        this.state.event(job, "Warning", rec.failure.reason, rec.failure.message, "job-controller");
        this.#jobFinished(rec);
        changed = true;
      }
    } else if (succeeded >= completions) {
      if (!conditions.some((c) => c.type === "SuccessCriteriaMet")) {
        this.#setJobCondition(
          conditions,
          "SuccessCriteriaMet",
          "CompletionsReached",
          "Reached expected number of succeeded pods",
        );
        changed = true;
      }
      for (const p of active) this.kubelet.terminatePod(p);
      if (active.length === 0 && terminating.length === 0) {
        this.#setJobCondition(
          conditions,
          "Complete",
          "CompletionsReached",
          "Reached expected number of succeeded pods",
        );
        status.completionTime = this.state.now();
        this.state.event(job, "Normal", "Completed", "Job completed", "job-controller");
        this.#jobFinished(rec);
        changed = true;
      }
    } else {
      const want = Math.min(job.spec.parallelism ?? 1, completions - succeeded) - active.length;
      if (want > 0) {
        if (nowMs < rec.nextCreateAtMs) {
          if (!rec.timerPending) {
            rec.timerPending = true;
            this.state.after((rec.nextCreateAtMs - nowMs) / 1000, () => {
              rec.timerPending = false;
              this.#queueReconcile(rec);
            });
          }
        } else {
          for (let i = 0; i < want; i++) changed = this.#createJobPod(rec) || changed;
        }
      }
    }

    const live = this.podsOf(rec);
    const nowActive = live.filter(
      (p) =>
        !p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed",
    );
    const counts = {
      active: nowActive.length,
      ready: nowActive.filter((p) => p.pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
        .length,
      terminating: live.filter(
        (p) =>
          p.pod.metadata.deletionTimestamp && p.pod.status?.phase !== "Succeeded" && p.pod.status?.phase !== "Failed",
      ).length,
    };
    if (
      counts.active !== (status.active ?? 0) ||
      counts.ready !== status.ready ||
      counts.terminating !== status.terminating
    )
      changed = true;
    // Like the real status: zero counters are omitted, ready/terminating are always present.
    if (counts.active) status.active = counts.active;
    else delete status.active;
    if (succeeded) status.succeeded = succeeded;
    if (failed) status.failed = failed;
    status.ready = counts.ready;
    status.terminating = counts.terminating;
    status.uncountedTerminatedPods = {};
    if (conditions.length === 0) delete status.conditions;
    if (changed) this.state.bump(job);
  }

  #setJobCondition(conditions: Condition[], type: string, reason: string, message: string): void {
    if (conditions.some((c) => c.type === type)) return;
    const now = this.state.now();
    conditions.push({ type, status: "True", lastProbeTime: now, lastTransitionTime: now, reason, message });
  }

  #jobFinished(rec: JobRecord): void {
    rec.finished = true;
    const ttl = rec.job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    // The TTL-after-finished controller deletes the Job with Background propagation.
    this.state.after(ttl, () => {
      const { namespace = "", name = "" } = rec.job.metadata;
      if (this.state.jobs.get(`${namespace}/${name}`) === rec) this.delete(namespace, name, "Background");
    });
  }

  /** Creates one pod from the template; returns false (and records FailedCreate) when admission refuses it. */
  #createJobPod(rec: JobRecord): boolean {
    const job = rec.job;
    const namespace = job.metadata.namespace ?? "default";
    const prefix = `${job.metadata.name ?? ""}-`;
    const template = structuredClone(job.spec.template);
    const body: PodObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...(template.metadata ?? {}),
        name: this.state.generateName(prefix, (n) => this.state.pods.has(`${namespace}/${n}`)),
        namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ownerReferences: [
          {
            apiVersion: "batch/v1",
            kind: "Job",
            name: job.metadata.name ?? "",
            uid: job.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: template.spec,
    };
    try {
      const pod = this.admit(namespace, body, prefix);
      this.kubelet.startPod(pod);
      this.state.event(job, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name ?? ""}`, "job-controller");
      return true;
    } catch (error) {
      if (!(error instanceof KubernetesApiError)) throw error;
      this.state.event(job, "Warning", "FailedCreate", `Error creating: ${error.message}`, "job-controller");
      // The controller requeues with its rate limiter; retry on the same back-off curve.
      rec.createFailures++;
      rec.nextCreateAtMs =
        this.state.nowMs() +
        Math.min(360, this.state.settings.jobBackoffSeconds * 2 ** (rec.createFailures - 1)) * 1000;
      if (!rec.timerPending) {
        rec.timerPending = true;
        this.state.after((rec.nextCreateAtMs - this.state.nowMs()) / 1000, () => {
          rec.timerPending = false;
          this.#queueReconcile(rec);
        });
      }
      return false;
    }
  }

  /** The Jobs as plain data (for persistence). */
  save(): SavedJob[] {
    return [...this.state.jobs.values()].map((r) => ({
      job: copy(r.job),
      finished: r.finished,
      ...(r.failure ? { failure: { ...r.failure } } : {}),
    }));
  }

  /** Puts back a Job saved by {@link save} (after its terminal pods were restored); an unfinished Job resumes. */
  restore(saved: SavedJob): void {
    const job = copy(saved.job);
    const rec: JobRecord = {
      job,
      countedSucceeded: new Set(),
      countedFailed: new Set(),
      nextCreateAtMs: 0,
      createFailures: 0,
      timerPending: false,
      failure: saved.failure,
      foregroundDeleting: job.metadata.deletionTimestamp !== undefined,
      finished: saved.finished,
      reconcileQueued: false,
    };
    // Restored terminal pods were counted into the Job's status already.
    for (const p of this.podsOf(rec)) {
      if (p.pod.status?.phase === "Succeeded") rec.countedSucceeded.add(p.pod.metadata.name ?? "");
      else rec.countedFailed.add(p.pod.metadata.name ?? "");
    }
    this.state.jobs.set(`${job.metadata.namespace ?? ""}/${job.metadata.name ?? ""}`, rec);
    if (rec.finished) return;
    if (job.status) job.status.active = 0;
    const deadline = job.spec.activeDeadlineSeconds;
    const started = Date.parse(job.status?.startTime ?? "");
    if (deadline !== undefined && Number.isFinite(started)) {
      this.state.after(Math.max(0, deadline - (this.state.nowMs() - started) / 1000), () => this.#queueReconcile(rec));
    }
    this.#queueReconcile(rec);
  }
}
