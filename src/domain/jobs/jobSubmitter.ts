/**
 * `submitJob`: everything a job submission does after the body is
 * validated — the cluster checks (sandbox runtime class, a ready sandbox node
 * that holds the job's VM, a network policy engine, no clash of names, room
 * in the namespace quota), the job slot, the job row, the contained
 * namespace and the Kubernetes Job. `JobService` is the façade that calls it.
 */
import type { Principal } from "../identity/principal.js";
import type {
  ClusterKubernetes,
  ClusterKubernetesFactory,
  ClusterRef,
  KubernetesObject,
  NodeSummary,
} from "../kubernetes/clusterKubernetes.js";
import { authorizeClusterAccess, requireTeam } from "../policy/authorization.js";
import { namespaceFor, type SandboxPolicy } from "../policy/policy.js";
import { SandboxError, isSandboxError } from "../sandboxError.js";
import { buildJobManifest, JOB_ID_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TEAM_LABEL } from "./jobManifest.js";
import type { JobRecord } from "./jobRecord.js";
import { isTerminalJobStatus } from "./jobStatus.js";
import type { JobStore } from "./jobStore.js";
import { validateJobSubmission, type JobSpec, type JobSubmissionBody } from "./jobSubmission.js";
import type { JobSlotQuota } from "./jobSlotQuota.js";
import { fitsSomeNode, sandboxVmFootprint } from "./sandboxFootprint.js";
import { defaultJobLimits, JOB_SERVICE_ACCOUNT, QUOTA_NAME } from "../containment/containmentObjects.js";
import type { NamespaceContainment } from "../containment/namespaceContainment.js";
import { checkNamespaceQuota } from "../containment/namespaceQuota.js";

/** How long a cluster's ready sandbox nodes are trusted by submissions, ms (the timer and the pod's scheduling still see changes). */
export const SANDBOX_NODES_CACHE_MS = 10_000;

export interface JobSubmitterDependencies {
  store: JobStore;
  kubernetes: ClusterKubernetesFactory;
  slots: JobSlotQuota;
  policy: SandboxPolicy;
  /** The flavour's sandbox RuntimeClass; never from callers. */
  runtimeClassName: string;
  now: () => Date;
  random: (bytes: number) => string;
  log: (event: Record<string, unknown>) => void;
  /** Absent (unit tests with fakes): namespaces are only created, engines not checked. */
  containment?: NamespaceContainment | undefined;
}

/** The `Conflict` a taken job name is refused with. */
function nameTakenError(name: string, clusterName: string): SandboxError {
  return new SandboxError(
    "Conflict",
    `A job named "${name}" already exists on cluster "${clusterName}"; choose another name or cancel it first.`,
    { target: "body.name" },
  );
}

/** True for {@link nameTakenError}'s error. */
function isNameTaken(error: unknown): boolean {
  return isSandboxError(error) && error.code === "Conflict" && error.target === "body.name";
}

/**
 * Starts `promise` now and returns its awaiting later; a rejection nobody
 * awaits (an earlier check failed first) is not reported as unhandled.
 */
function settled<T>(promise: Promise<T>): () => Promise<T> {
  promise.catch(() => undefined);
  return () => promise;
}

export class JobSubmitter {
  readonly #store: JobStore;
  readonly #kubernetes: ClusterKubernetesFactory;
  readonly #slots: JobSlotQuota;
  readonly #policy: SandboxPolicy;
  readonly #runtimeClassName: string;
  readonly #now: () => Date;
  readonly #random: (bytes: number) => string;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #containment: NamespaceContainment | undefined;
  /** Ready sandbox nodes per cluster, with the time they were read (see {@link JobSubmitter.#sandboxNodes}). */
  readonly #nodes = new Map<string, { at: number; nodes: NodeSummary[] }>();

  constructor(deps: JobSubmitterDependencies) {
    this.#store = deps.store;
    this.#kubernetes = deps.kubernetes;
    this.#slots = deps.slots;
    this.#policy = deps.policy;
    this.#runtimeClassName = deps.runtimeClassName;
    this.#now = deps.now;
    this.#random = deps.random;
    this.#log = deps.log;
    this.#containment = deps.containment;
  }

  /**
   * `submitJob`: validates everything, checks the cluster (sandbox runtime
   * class, a sandbox node that holds the job's VM, a network policy engine,
   * no Job or unfinished job row of that name, room in the namespace quota),
   * takes a job slot, records the row and creates the namespace (if missing)
   * and the Job. Any failure after the slot was taken undoes the row and the
   * slot: nothing is left half-made. Round trips in the steady state (nodes
   * and network engine cached, containment fresh): the slot and row writes
   * together with the Job-name and quota reads, then the Job create.
   * @throws SandboxError `InvalidRequest`, `HostNetworkNotSupported`,
   * `Forbidden`, `QuotaExceeded` (see `validateJobSubmission`; before any
   * cluster call), `NotFound` (cluster), `SandboxNotReady` (no runtime class
   * or no ready sandbox node), `SandboxTooLarge`, `NetworkPolicyUnsupported`,
   * `Conflict` (a job of that name exists), `JobLimitExceeded` /
   * `QuotaExceeded` (namespace quota), `QuotaExceeded` (concurrent jobs),
   * upstream errors.
   *
   * `submissionKey` (the request's repeatability key) makes a retry of a
   * submission whose first try died mid-way idempotent: the name a try finds
   * taken by a row with the same key and caller is that try's own job, which
   * is finished (its Job created if the first try died before) and returned.
   * A generated name is derived from the key, so every try picks the same.
   */
  async submit(input: {
    principal: Principal;
    cluster: ClusterRef;
    body: JobSubmissionBody;
    requestId: string;
    submissionKey?: string;
  }): Promise<JobRecord> {
    const { principal, cluster, body, submissionKey } = input;
    authorizeClusterAccess(principal, this.#policy, cluster, "change");
    const team = requireTeam(principal, this.#policy);
    const namespace = namespaceFor(team, cluster);
    const generateName = () => `job-${submissionKey?.slice(0, 8) ?? this.#random(4)}`;
    const spec = validateJobSubmission(body, { principal, team, generateName });
    if (this.#containment) {
      // A contained namespace's quota counts limits: a job that names none gets the team's small default, explicitly.
      const defaults = defaultJobLimits(team);
      if (spec.cpuLimit === undefined) {
        spec.cpuLimit = defaults.cpu;
        spec.limits = { ...spec.limits, cpu: `${Math.round(defaults.cpu * 1000)}m` };
      }
      if (spec.memoryLimitMiB === undefined) {
        spec.memoryLimitMiB = defaults.memoryMiB;
        spec.limits = { ...spec.limits, memory: `${defaults.memoryMiB}Mi` };
      }
    }

    const k8s = await this.#kubernetes.forCluster(cluster);
    // Every read the checks need, at once. The checks below await them in their order, so the
    // first failing check decides the error as before; reads of a refused submission are dropped.
    const sandboxed = spec.isolation === "sandbox";
    const containment = this.#containment;
    const liveRead = settled(k8s.getJob(namespace, spec.name));
    const nodesRead = sandboxed ? settled(this.#sandboxNodes(k8s, cluster)) : undefined;
    const networkRead =
      sandboxed && containment && !team.allowUnenforcedNetworking
        ? settled(containment.clusterNetwork(cluster, input.requestId))
        : undefined;
    // The quota can be read now when the namespace's containment is known to be in place; otherwise
    // containment is applied first, once the checks passed (a refused submission changes no cluster).
    const quotaRead = containment?.isFresh(cluster, namespace)
      ? settled(k8s.getObject("v1", "ResourceQuota", namespace, QUOTA_NAME))
      : undefined;

    let sandboxVm;
    if (nodesRead) {
      const nodes = await nodesRead();
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

    if (networkRead) {
      const network = await networkRead();
      if (!network?.policyEnforced) {
        throw new SandboxError(
          "NetworkPolicyUnsupported",
          `Cluster "${cluster.clusterName}" has no network policy engine (networkProfile.networkPolicy: ${network?.networkPolicy ?? "unknown"}), so a sandboxed job could reach the Instance Metadata Service, the wireserver, the API server and other teams' pods. Use a cluster created by this service (Azure CNI powered by Cilium), enable an engine (az aks update --network-dataplane cilium or --network-policy azure|calico|cilium), or let the team accept unenforced networking (allowUnenforcedNetworking in the team policy).`,
          { target: "clusterName" },
        );
      }
    }

    // A row of this name with this request's key is an earlier try's: resumed below instead of refused.
    const earlierTry = async (): Promise<JobRecord | undefined> => {
      if (submissionKey === undefined) return undefined;
      const row = await this.#store.get(team.name, cluster, spec.name);
      return row?.submissionKey === submissionKey && row.createdBy === principal.id ? row : undefined;
    };
    const nameTaken = (): SandboxError => nameTakenError(spec.name, cluster.clusterName);
    // The namespace quota: a job it cannot take would hang Pending (FailedCreate).
    const ephemeralMiB = team.quotas.ephemeralStorageMiBPerJob;
    let quotaCheck = quotaRead;
    if (containment && !quotaRead) {
      // Not known to be contained yet (the first submission per namespace and refresh period): the
      // Job name is checked and containment applied before anything is written.
      if (await liveRead()) {
        const own = await earlierTry();
        if (own) return this.#resume(k8s, own, spec, await liveRead(), team.quotas.ephemeralStorageMiBPerJob);
        throw nameTaken();
      }
      await containment.ensure(k8s, cluster, team, namespace);
      quotaCheck = settled(k8s.getObject("v1", "ResourceQuota", namespace, QUOTA_NAME));
    }
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
      ...(submissionKey === undefined ? {} : { submissionKey }),
      warnings: spec.warnings,
      refreshedAt: undefined,
      logs: undefined,
    };
    // The slot and the row are written while the Job-name and quota reads are still on their way
    // (one round trip instead of two); then the checks run in their order — a Job of that name, a
    // job row of that name, the namespace quota, the team's slots — and a failure undoes both
    // writes. A young row without its Job is left alone by the timer.
    const [slot, row] = await Promise.allSettled([
      this.#slots.reserveJobSlot(team.name, uid),
      this.#insertRow(record, nameTaken, liveRead),
    ]);
    let failure: { error: unknown } | undefined;
    try {
      if (await liveRead()) throw nameTaken();
      if (row.status === "rejected" && isSandboxError(row.reason) && row.reason.code === "Conflict") throw row.reason;
      if (containment && quotaCheck) {
        checkNamespaceQuota(
          await quotaCheck(),
          { cpu: spec.cpuLimit ?? 0, memoryMiB: spec.memoryLimitMiB ?? 0, ephemeralMiB },
          namespace,
        );
      }
      if (slot.status === "rejected") throw slot.reason;
      if (row.status === "rejected") throw row.reason;
    } catch (error) {
      failure = { error };
    }
    if (failure || row.status === "rejected") {
      const own = isNameTaken(failure?.error ?? (row.status === "rejected" ? row.reason : undefined))
        ? await earlierTry().catch(() => undefined)
        : undefined;
      if (row.status === "fulfilled") await this.#store.delete(row.value).catch(() => undefined);
      // A failure other than the name's conflict may have written the row all the same (its answer lost on the
      // way back): left behind, it would claim the name for a job that never runs, and a retry would answer 409.
      else if (!(isSandboxError(row.reason) && row.reason.code === "Conflict"))
        await this.#discardRow(record).catch(() => undefined);
      if (slot.status === "fulfilled") await this.#slots.releaseJobSlot(team.name, uid).catch(() => undefined);
      if (own) return this.#resume(k8s, own, spec, await liveRead(), ephemeralMiB);
      throw (failure?.error ?? (row as PromiseRejectedResult).reason) as Error;
    }
    const stored = row.value;
    try {
      await this.#createJob(k8s, stored, spec, ephemeralMiB);
    } catch (error) {
      // The create may have reached the cluster although it failed here: our Job (by its uid label) goes too.
      if (!(isSandboxError(error) && error.code === "Conflict"))
        await this.#deleteOwnJob(k8s, namespace, spec.name, uid).catch(() => undefined);
      await this.#store.delete(stored).catch(() => undefined);
      await this.#slots.releaseJobSlot(team.name, uid).catch(() => undefined);
      if (isSandboxError(error) && error.code === "Conflict") {
        throw new SandboxError(
          "Conflict",
          `A job named "${spec.name}" already exists on cluster "${cluster.clusterName}".`,
          { target: "body.name" },
        );
      }
      throw error;
    }
    this.#log({
      msg: "job submitted",
      team: team.name,
      cluster: cluster.clusterName,
      job: spec.name,
      uid,
      isolation: spec.isolation,
    });
    return stored;
  }

  /** The namespace (without containment) and the Kubernetes Job of a recorded job, labelled with its uid. */
  async #createJob(k8s: ClusterKubernetes, record: JobRecord, spec: JobSpec, ephemeralMiB: number): Promise<void> {
    const team = record.team;
    if (!this.#containment)
      await k8s.ensureNamespace(record.namespace, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TEAM_LABEL]: team });
    await k8s.createJob(
      record.namespace,
      buildJobManifest({
        name: record.name,
        namespace: record.namespace,
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
        team,
        jobId: record.uid,
        requestId: record.requestId,
        ...(this.#containment
          ? { serviceAccountName: JOB_SERVICE_ACCOUNT, ephemeralStorage: `${ephemeralMiB}Mi` }
          : {}),
      }),
    );
  }

  /**
   * Finishes the submission an earlier try of the same request began and died in (`own`: its row): its slot is held
   * again (idempotent per uid), its Job created when that try died before creating it, and its row returned — what
   * that try would have answered. A row the timer already ended (the Job never came) is returned as it is.
   * @throws SandboxError `Conflict` when the Job of that name is another submission's.
   */
  async #resume(
    k8s: ClusterKubernetes,
    own: JobRecord,
    spec: JobSpec,
    live: KubernetesObject | undefined,
    ephemeralMiB: number,
  ): Promise<JobRecord> {
    if (isTerminalJobStatus(own.status)) return own;
    if (live && live.metadata?.labels?.[JOB_ID_LABEL] !== own.uid)
      throw nameTakenError(own.name, own.cluster.clusterName);
    await this.#slots.reserveJobSlot(own.team, own.uid);
    if (!live) await this.#createJob(k8s, own, spec, ephemeralMiB);
    this.#log({ msg: "job submission resumed", team: own.team, cluster: own.cluster.clusterName, job: own.name });
    return own;
  }

  /** Deletes the job's row if it is this submission's (same uid): another submission's row stays. */
  async #discardRow(record: JobRecord): Promise<void> {
    const row = await this.#store.get(record.team, record.cluster, record.name);
    if (row?.uid === record.uid) await this.#store.delete(row);
  }

  /** Deletes the Kubernetes Job of that name if it is this submission's (its uid label). */
  async #deleteOwnJob(k8s: ClusterKubernetes, namespace: string, name: string, uid: string): Promise<void> {
    const job = await k8s.getJob(namespace, name);
    if (job?.metadata?.labels?.[JOB_ID_LABEL] === uid) await k8s.deleteJob(namespace, name, "Background");
  }

  /**
   * Records the job's row. The name is checked by the insert itself (no read
   * before it): a row of that name makes it read that row — an unfinished
   * job keeps its name (`Conflict`); a finished one whose Kubernetes Job is
   * gone (checked before) gives up its name and its captured logs.
   */
  async #insertRow(
    record: JobRecord,
    nameTaken: () => SandboxError,
    liveJob: () => Promise<unknown>,
  ): Promise<JobRecord> {
    try {
      return await this.#store.insert(record);
    } catch (error) {
      if (!isSandboxError(error) || error.code !== "Conflict") throw error;
    }
    const existing = await this.#store.get(record.team, record.cluster, record.name);
    if (existing && !isTerminalJobStatus(existing.status)) throw nameTaken();
    // Its Kubernetes Job still there (its TTL not over): the name stays taken, the row stays.
    if (existing && (await liveJob())) throw nameTaken();
    if (existing) await this.#store.delete(existing);
    try {
      return await this.#store.insert(record);
    } catch (error) {
      if (isSandboxError(error) && error.code === "Conflict") throw nameTaken();
      throw error;
    }
  }

  /**
   * The ready nodes the sandbox RuntimeClass schedules onto. A positive
   * answer is kept for {@link SANDBOX_NODES_CACHE_MS} per cluster (a
   * submission must not cost two more API-server reads); a missing runtime
   * class or no ready node is never kept, so a pool that just became ready
   * is seen at once.
   * @throws SandboxError `SandboxNotReady`.
   */
  async #sandboxNodes(k8s: ClusterKubernetes, cluster: ClusterRef): Promise<NodeSummary[]> {
    const key = `${cluster.subscriptionId}/${cluster.resourceGroup}/${cluster.clusterName}`.toLowerCase();
    const nowMs = this.#now().getTime();
    const cached = this.#nodes.get(key);
    if (cached && nowMs - cached.at < SANDBOX_NODES_CACHE_MS) return cached.nodes;
    const runtimeClass = await k8s.getRuntimeClass(this.#runtimeClassName);
    if (!runtimeClass) {
      throw new SandboxError(
        "SandboxNotReady",
        `Cluster "${cluster.clusterName}" has no RuntimeClass "${this.#runtimeClassName}", so a sandboxed pod would never schedule. Create a sandbox pool first (PUT …/clusters/${cluster.clusterName}/sandbox-pools/{poolName}).`,
        { target: "clusterName" },
      );
    }
    const selector = Object.entries(runtimeClass.nodeSelector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const nodes = (await k8s.listNodes(selector || undefined)).filter((n) => n.ready);
    if (nodes.length === 0) {
      this.#nodes.delete(key);
      throw new SandboxError(
        "SandboxNotReady",
        `Cluster "${cluster.clusterName}" has no ready sandbox node. Create or scale up a sandbox pool.`,
        { target: "clusterName" },
      );
    }
    this.#nodes.set(key, { at: nowMs, nodes });
    return nodes;
  }
}
