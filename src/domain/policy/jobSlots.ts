/**
 * The concurrent-jobs quota. A job holds a slot of its team from submission
 * until it finishes; a team never holds more than `maxConcurrentJobs`.
 * Counting happens in storage so that two instances admitting submissions at
 * the limit at the same moment admit exactly one.
 */
import { SandboxError } from "../sandboxError.js";
import { teamPolicy, type SandboxPolicy } from "./policy.js";

/** Outcome of {@link JobSlotStore.tryReserve}. */
export interface ReserveOutcome {
  /** `reserved`: a new slot; `alreadyHeld`: the job held one already; `full`: the team is at the limit. */
  readonly outcome: "reserved" | "alreadyHeld" | "full";
  /** Slots the team holds after the attempt. */
  readonly inUse: number;
}

/**
 * Port: race-safe slot bookkeeping per team. Implementations serialize
 * changes per team (e.g. ETag optimistic concurrency) and are idempotent per
 * job id.
 */
export interface JobSlotStore {
  /** Takes a slot for `jobId` unless the team already holds `limit` slots. Idempotent per job id. */
  tryReserve(team: string, jobId: string, limit: number): Promise<ReserveOutcome>;
  /** Frees the job's slot. @returns false when it held none (idempotent). */
  release(team: string, jobId: string): Promise<boolean>;
  /** The job ids holding a slot of the team (for reconciliation), in no particular order. */
  holders(team: string): Promise<string[]>;
}

/**
 * The use-cases the Jobs routes call: reserve a slot before creating the
 * Kubernetes Job, release it when the job reaches a terminal state (or its
 * creation failed).
 */
export class JobSlots {
  constructor(
    private readonly store: JobSlotStore,
    private readonly policy: SandboxPolicy,
  ) {}

  /**
   * Reserves a slot of the team's `maxConcurrentJobs` for the job.
   * Idempotent: reserving again for a job that holds a slot succeeds.
   * @throws SandboxError `QuotaExceeded` naming the limit (with Retry-After),
   * `Forbidden` for a team the policy does not define.
   */
  async reserveJobSlot(team: string, jobId: string): Promise<void> {
    const policy = teamPolicy(this.policy, team);
    if (!policy) throw new SandboxError("Forbidden", `Team "${team}" is not defined in the team policy.`);
    const limit = policy.quotas.maxConcurrentJobs;
    const { outcome } = await this.store.tryReserve(team, jobId, limit);
    if (outcome === "full") {
      throw new SandboxError(
        "QuotaExceeded",
        `Team "${team}" already runs ${limit} job${limit === 1 ? "" : "s"}, its maxConcurrentJobs; wait for one to finish or cancel one.`,
        {
          target: "maxConcurrentJobs",
          retryAfterSeconds: 30,
        },
      );
    }
  }

  /**
   * Releases the job's slot. Idempotent.
   * @returns false when the job held no slot.
   */
  async releaseJobSlot(team: string, jobId: string): Promise<boolean> {
    return this.store.release(team, jobId);
  }
}
