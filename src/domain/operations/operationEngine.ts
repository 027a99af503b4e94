// One file on purpose (~550 lines): the engine's public surface (submit, get, list, cancel, advance, drive)
// over one store; the step transition (stepTransition.ts), the serial lease (serialLease.ts) and the
// reconcile pass (reconcilePass.ts) are already separate, what remains is their orchestration.
import { randomUUID } from "node:crypto";
import { SandboxError, isSandboxError } from "../sandboxError.js";
import { isRetryableUpstream, type ArmOperations } from "./armOperations.js";
import { ArmBudget, type ArmCallBudget } from "./armBudget.js";
import {
  isTerminal,
  newOperationId,
  type OperationError,
  type OperationKindName,
  type OperationRecord,
  type OperationStatus,
} from "./operation.js";
import { FinishedOperations } from "./finishedOperations.js";
import type { OperationKindRegistry } from "./operationKinds.js";
import type { OperationFilter, OperationStore, StoredOperation } from "./operationStore.js";
import type { StepContext, StepOutcome } from "./steps.js";
import { acquireSerialLease } from "./serialLease.js";
import { reconcilePass, type AdvanceResult, type ReconcileReport } from "./reconcilePass.js";

export type { AdvanceResult, ReconcileReport } from "./reconcilePass.js";
import { applyStepOutcome, failStep, finishOperation, retryStep, startStep } from "./stepTransition.js";
import { NO_OPERATION_TRACING, type OperationTracing } from "./operationTracing.js";

/** Engine timing and limits. Service seconds are scaled by `scale`; wall values are not. */
export interface EngineSettings {
  /** Wall seconds per service second: SIM_TIME_SCALE in simulated mode, 1 otherwise. */
  scale: number;
  /** Wall ms a claim protects an advancing operation (must exceed the ARM call timeout). Default 60 000. */
  claimMs: number;
  /** Operations advanced at once by one reconcile pass. Default 8. */
  concurrency: number;
  /** ARM calls per service minute and subscription, per instance. Default 200. */
  armBudgetPerMinute: number;
  /** Days terminal operations are kept (≥ 30). Default 30. */
  retentionDays: number;
  /** Wall ms one reconcile pass keeps driving due operations. Default 8000 (the timer fires every 10 s). */
  passMs: number;
  /** Transient failure backoff: base and cap, service seconds (exponential, full jitter above half). Defaults 5 and 300. */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** Service seconds between checks of a queued operation whose cluster is busy. Default 15. */
  serialWaitSeconds: number;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = Object.freeze({
  scale: 1,
  claimMs: 60_000,
  concurrency: 8,
  armBudgetPerMinute: 200,
  retentionDays: 30,
  passMs: 8000,
  backoffBaseSeconds: 5,
  backoffMaxSeconds: 300,
  serialWaitSeconds: 15,
});

/** A request to start an operation. */
export interface SubmitRequest {
  kind: OperationKindName;
  /** API path of the target resource. */
  target: string;
  subscriptionId: string;
  /** Operations with the same key run one after the other (e.g. the cluster's ARM id). */
  serialKey?: string;
  /** The kind's typed input (see `OperationInputs`); stored in the row as plain JSON. */
  input: object;
  createdBy: string;
  team: string | undefined;
  /** The request id, passed to ARM as `x-ms-correlation-request-id`. */
  correlationId: string;
  /** Advance once right away (default true). False leaves the row `NotStarted` for the reconciler. */
  startNow?: boolean;
}

export interface OperationEngineDependencies {
  store: OperationStore;
  arm: ArmOperations;
  kinds: OperationKindRegistry;
  settings?: Partial<EngineSettings>;
  /** Identifies this instance in claims. Default a random id. */
  instanceId?: string;
  now?: () => number;
  /** Waits `ms` wall milliseconds (the reconcile pass). Default a timer. */
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
  log?: (event: Record<string, unknown>) => void;
  /** Spans per step tick, the creating request's trace kept on the row. Default none. */
  tracing?: OperationTracing;
  /** The per-subscription ARM budget; default this instance's own (`settings.armBudgetPerMinute`). */
  budget?: ArmCallBudget;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The durable operations engine: writes operation rows, advances them one
 * step tick at a time (never looping on a poller), and is safe to run in any
 * number of instances at once.
 *
 * - A tick first **claims** the row (ETag-conditional write of `claim`), so
 *   two instances never advance the same operation; a claim expires after
 *   `claimMs`, so a crashed instance's work is resumed by anybody.
 * - Reads coalesce: concurrent {@link get}/{@link advance} calls for one
 *   operation in one instance share one tick; across instances the claim
 *   lets only one through.
 * - Operations with the same `serialKey` queue (status `NotStarted`, the
 *   first step says what it waits for) behind a lease row.
 * - `Retry-After` is honoured (`nextPollAt` is never earlier), transient
 *   errors back off exponentially with jitter, permanent ones fail the
 *   operation with the upstream code and message, a per-kind deadline fails
 *   it with `OperationTimedOut`.
 */
export class OperationEngine {
  readonly settings: EngineSettings;
  readonly instanceId: string;
  readonly #store: OperationStore;
  readonly #arm: ArmOperations;
  readonly #kinds: OperationKindRegistry;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;
  /** Finished operations answered without a Table read (see {@link FinishedOperations}). */
  readonly #finished: FinishedOperations;
  readonly #random: () => number;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #tracing: OperationTracing;
  readonly #budget: ArmCallBudget;
  readonly #inflight = new Map<string, Promise<AdvanceResult>>();

  constructor(deps: OperationEngineDependencies) {
    this.settings = Object.freeze({ ...DEFAULT_ENGINE_SETTINGS, ...deps.settings });
    this.instanceId = deps.instanceId ?? randomUUID();
    this.#store = deps.store;
    this.#arm = deps.arm;
    this.#kinds = deps.kinds;
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#finished = new FinishedOperations(this.settings.retentionDays * 86_400_000, () => this.#now());
    this.#random = deps.random ?? Math.random;
    this.#log = deps.log ?? (() => undefined);
    this.#tracing = deps.tracing ?? NO_OPERATION_TRACING;
    this.#budget = deps.budget ?? new ArmBudget(this.settings.armBudgetPerMinute, this.settings.scale);
  }

  /** Wall ms for `seconds` service seconds. */
  wallMs(seconds: number): number {
    return seconds * 1000 * this.settings.scale;
  }

  /**
   * Writes a new operation row (`NotStarted`, with the intended work in
   * `input`) and, unless `startNow` is false, advances it once (issuing the
   * first ARM call). A failure of that first tick is recorded in the row and
   * retried by the reconciler, never thrown.
   * @throws SandboxError `InvalidRequest` for an unknown kind.
   */
  async submit(request: SubmitRequest): Promise<OperationRecord> {
    const kind = this.#kinds.get(request.kind);
    if (!kind) throw new SandboxError("InvalidRequest", `Operation kind ${request.kind} is not available.`);
    const now = this.#now();
    const record: OperationRecord = {
      id: newOperationId(now, request.subscriptionId),
      kind: request.kind,
      target: request.target,
      subscriptionId: request.subscriptionId,
      serialKey: request.serialKey?.toLowerCase(),
      team: request.team,
      createdBy: request.createdBy,
      status: "NotStarted",
      steps: kind.steps.map((s) => ({ name: s.name, status: "NotStarted" })),
      stepIndex: 0,
      stepState: {},
      // The row keeps the input as plain JSON; its type is the kind's (OperationInputs).
      input: request.input as Record<string, unknown>,
      data: {},
      nextPollAt: now,
      attempts: 0,
      armCalls: 0,
      ticks: 0,
      lastError: undefined,
      error: undefined,
      result: undefined,
      percentComplete: undefined,
      cancelRequested: false,
      holdsLease: false,
      claim: undefined,
      correlationId: request.correlationId,
      createdAt: now,
      lastUpdatedAt: now,
      endedAt: undefined,
      deadlineAt: now + this.wallMs(kind.deadlineSeconds),
      traceparent: this.#tracing.currentTraceparent(),
    };
    const stored = await this.#store.create(record);
    if (request.startNow === false) return stored.record;
    try {
      return (await this.advance(record.id)) ?? stored.record;
    } catch (error) {
      this.#log({
        level: "warn",
        msg: "first tick failed; the reconciler retries",
        operationId: record.id,
        error: String(error),
      });
      return stored.record;
    }
  }

  /**
   * The operation, or undefined. With `advanceIfDue`, an operation whose next
   * poll is due is advanced first (coalesced with concurrent readers).
   */
  async get(id: string, options: { advanceIfDue?: boolean } = {}): Promise<OperationRecord | undefined> {
    const finished = this.#finished.get(id);
    if (finished) return finished;
    const stored = await this.#store.get(id);
    if (!stored) return undefined;
    const op = stored.record;
    if (isTerminal(op.status)) this.#finished.remember(op);
    if (!options.advanceIfDue || isTerminal(op.status) || op.nextPollAt > this.#now()) return op;
    if (op.claim && op.claim.until > this.#now()) return op;
    try {
      return (await this.advance(id)) ?? op;
    } catch (error) {
      this.#log({ level: "warn", msg: "advance on read failed", operationId: id, error: String(error) });
      return op;
    }
  }

  /** One page of operations (see {@link OperationStore.list}). */
  list(
    filter: OperationFilter,
    top: number,
    continuationToken?: string,
  ): Promise<{ items: OperationRecord[]; continuationToken?: string }> {
    return this.#store.list(filter, top, continuationToken);
  }

  /**
   * Requests cancellation: not-yet-started operations end `Canceled` at once;
   * a running agent-pool LRO is aborted at ARM; other running steps finish
   * first. Idempotent for operations already being canceled.
   * @throws SandboxError `NotFound`, or `Conflict` when the operation already ended.
   */
  async cancel(id: string): Promise<OperationRecord> {
    for (let round = 0; round < 8; round++) {
      const stored = await this.#store.get(id);
      if (!stored) throw new SandboxError("NotFound", `Operation ${id} was not found.`);
      const op = stored.record;
      if (isTerminal(op.status))
        throw new SandboxError(
          "Conflict",
          `Operation ${id} already ended (${op.status}); only running operations can be canceled.`,
        );
      if (!op.cancelRequested) {
        try {
          await this.#store.update(
            { ...op, cancelRequested: true, nextPollAt: this.#now(), lastUpdatedAt: this.#now() },
            stored.etag,
          );
        } catch (error) {
          if (isSandboxError(error) && error.code === "PreconditionFailed") continue;
          throw error;
        }
      }
      return (await this.advance(id, { force: true })) ?? op;
    }
    throw new SandboxError("ServiceUnavailable", `Operation ${id} is changing too often to cancel right now; retry.`, {
      retryAfterSeconds: 1,
    });
  }

  /**
   * Advances the operation by one tick if it is due (or `force`), coalescing
   * concurrent callers in this instance. Returns the current record.
   */
  async advance(id: string, options: { force?: boolean } = {}): Promise<OperationRecord | undefined> {
    return (await this.#advanceCoalesced(id, options)).record;
  }

  #advanceCoalesced(id: string, options: { force?: boolean }): Promise<AdvanceResult> {
    const running = this.#inflight.get(id);
    if (running) return running;
    const p = this.#advanceOnce(id, options).finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, p);
    return p;
  }

  async #advanceOnce(id: string, options: { force?: boolean }): Promise<AdvanceResult> {
    for (let round = 0; round < 4; round++) {
      const stored = await this.#store.get(id);
      if (!stored) return { record: undefined };
      const op = stored.record;
      if (isTerminal(op.status)) return { record: op };
      const now = this.#now();
      if (op.nextPollAt > now && !options.force && !op.cancelRequested) return { record: op };
      if (op.claim && op.claim.until > now && op.claim.by !== this.instanceId) return { record: op };
      if (!this.#budget.tryTake(op.subscriptionId, now)) {
        // A shared budget may just need its next batch of tokens.
        await this.#budget.refill?.(op.subscriptionId, now);
        if (!this.#budget.tryTake(op.subscriptionId, this.#now()))
          return { record: op, deferredMs: this.#budget.waitMs(op.subscriptionId, this.#now()) };
      }
      let claimed: StoredOperation;
      try {
        claimed = await this.#store.update(
          { ...op, claim: { by: this.instanceId, until: now + this.settings.claimMs } },
          stored.etag,
        );
      } catch (error) {
        this.#budget.refund(op.subscriptionId, now, 1);
        if (isSandboxError(error) && error.code === "PreconditionFailed") continue;
        throw error;
      }
      let ticked: { record: OperationRecord; etag: string; calls: number };
      try {
        ticked = await this.#tracing.tick(claimed.record, () => this.#tick(claimed));
      } catch (error) {
        this.#budget.refund(op.subscriptionId, this.#now(), 1);
        if (isSandboxError(error) && error.code === "PreconditionFailed") continue; // a checkpoint lost a race: re-read, re-decide
        throw error;
      }
      if (ticked.calls === 0) this.#budget.refund(op.subscriptionId, this.#now(), 1);
      else if (ticked.calls > 1) this.#budget.charge(op.subscriptionId, this.#now(), ticked.calls - 1);
      const committed = await this.#commit(ticked.record, ticked.etag, claimed.record.ticks);
      if (committed && isTerminal(committed.status) && committed.serialKey) this.#wakeQueue(committed.serialKey);
      return { record: committed ?? (await this.#store.get(id))?.record };
    }
    return { record: (await this.#store.get(id))?.record };
  }

  /**
   * Writes the tick's result. On a lost race the row is re-read: when only a
   * cancel request landed meanwhile (nobody else ticked), the result is
   * re-applied on top of it; when another instance ticked (our claim had
   * expired), ours is dropped.
   */
  async #commit(record: OperationRecord, etag: string, ticksAtClaim: number): Promise<OperationRecord | undefined> {
    const final = { ...record, claim: undefined, ticks: ticksAtClaim + 1, lastUpdatedAt: this.#now() };
    let currentEtag = etag;
    for (let round = 0; round < 4; round++) {
      try {
        return (await this.#store.update(final, currentEtag)).record;
      } catch (error) {
        if (!(isSandboxError(error) && error.code === "PreconditionFailed")) throw error;
        const fresh = await this.#store.get(record.id);
        if (!fresh || fresh.record.ticks !== ticksAtClaim) {
          this.#log({
            level: "warn",
            msg: "tick result dropped: another instance advanced the operation",
            operationId: record.id,
          });
          return fresh?.record;
        }
        if (fresh.record.cancelRequested && !final.cancelRequested) {
          final.cancelRequested = true;
          if (!isTerminal(final.status)) final.nextPollAt = this.#now();
        }
        currentEtag = fresh.etag;
      }
    }
    return undefined;
  }

  #wakeQueue(serialKey: string): void {
    void (async () => {
      const next = (await this.#store.listActive())
        .filter((e) => e.serialKey === serialKey)
        .sort((a, b) => (a.id < b.id ? -1 : 1))[0];
      if (next) await this.advance(next.id, { force: true });
    })().catch((error: unknown) =>
      this.#log({ level: "warn", msg: "waking the next queued operation failed", error: String(error) }),
    );
  }

  #backoffMs(attempts: number): number {
    const ceiling = Math.min(
      this.settings.backoffMaxSeconds,
      this.settings.backoffBaseSeconds * 2 ** Math.max(0, attempts - 1),
    );
    return this.wallMs(ceiling * (0.5 + this.#random() * 0.5));
  }

  /**
   * Runs one tick on a claimed row; returns the record to commit (claim still
   * set) and the latest ETag. A tick that ends the operation Failed or
   * Canceled first runs the kind's `onEnded` (e.g. gives a job slot back).
   */
  async #tick(claimed: StoredOperation): Promise<{ record: OperationRecord; etag: string; calls: number }> {
    const ticked = await this.#tickSteps(claimed);
    const op = ticked.record;
    const kind = this.#kinds.get(op.kind);
    if (kind?.onEnded && (op.status === "Failed" || op.status === "Canceled")) {
      try {
        await kind.onEnded({ operation: op, input: op.input }, op.status);
      } catch (error) {
        // Retryable: the tick is redone later (nothing of it is stored), so the hook runs again.
        if (isSandboxError(error) && (isRetryableUpstream(error) || error.code === "PreconditionFailed")) throw error;
        this.#log({
          level: "warn",
          msg: "releasing what an ended operation held failed",
          operationId: op.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return ticked;
  }

  async #tickSteps(claimed: StoredOperation): Promise<{ record: OperationRecord; etag: string; calls: number }> {
    const op = clone(claimed.record);
    let etag = claimed.etag;
    let calls = 0;
    const done = (): { record: OperationRecord; etag: string; calls: number } => ({ record: op, etag, calls });
    const finish = (status: OperationStatus, error?: OperationError): void =>
      finishOperation(op, status, this.#now(), error);
    const kind = this.#kinds.get(op.kind);
    if (!kind) {
      finish("Failed", {
        code: "InternalError",
        message: `Operation kind ${op.kind} is not available in this version.`,
      });
      return done();
    }
    if (this.#now() > op.deadlineAt) {
      finish("Failed", {
        code: "OperationTimedOut",
        message: `The operation did not finish within its deadline (${kind.deadlineSeconds} s).`,
      });
      return done();
    }

    // Per-cluster serialization: wait for the lease, oldest first.
    if (op.serialKey !== undefined && !op.holdsLease) {
      const waitingFor = await acquireSerialLease(this.#store, op);
      if (waitingFor !== undefined) {
        if (op.cancelRequested) {
          finish("Canceled", { code: "Canceled", message: "The operation was canceled before it started." });
          return done();
        }
        const first = op.steps[0];
        if (first) first.message = `Waiting for ${waitingFor} on the same cluster to finish`;
        op.nextPollAt = this.#now() + this.wallMs(this.settings.serialWaitSeconds);
        return done();
      }
      op.holdsLease = true;
    }

    const context = (): StepContext => ({
      operation: op,
      input: op.input,
      data: op.data,
      state: op.stepState,
      arm: this.#arm,
      call: { correlationId: op.correlationId },
      now: this.#now(),
      serviceSecondsSince: (since) => (this.#now() - since) / this.wallMs(1),
      checkpoint: async (state) => {
        op.stepState = state;
        const saved = await this.#store.update(op, etag);
        etag = saved.etag;
      },
      countArmCall: (count = 1) => {
        calls += count;
        op.armCalls += count;
      },
    });

    if (op.cancelRequested) {
      const step = kind.steps[op.stepIndex];
      const started = step?.started ? step.started(op.stepState) : Object.keys(op.stepState).length > 0;
      if (!step || !started) {
        finish("Canceled", { code: "Canceled", message: "The operation was canceled." });
        return done();
      }
      if (step.abort) {
        try {
          await step.abort(context());
        } catch (error) {
          if (isSandboxError(error) && isRetryableUpstream(error)) throw error;
          this.#log({ level: "warn", msg: "abort failed; canceling anyway", operationId: op.id, error: String(error) });
        }
        finish("Canceled", {
          code: "Canceled",
          message: `The operation was canceled; its running step ${step.name} was stopped.`,
        });
        return done();
      }
      // No abort for this step: it runs to its end, then the operation stops.
    }

    for (let guard = 0; guard < 16; guard++) {
      const step = kind.steps[op.stepIndex];
      if (!step || !op.steps[op.stepIndex]) {
        finish("Failed", { code: "InternalError", message: "The operation's step list changed." });
        return done();
      }
      startStep(op, this.#now());
      let outcome: StepOutcome;
      try {
        outcome = await step.advance(context());
      } catch (error) {
        if (isSandboxError(error) && error.code === "PreconditionFailed") throw error;
        if (isSandboxError(error) && !isRetryableUpstream(error)) {
          failStep(
            op,
            {
              code: error.code,
              message: error.message,
              ...(error.details.length > 0 ? { details: error.details.map((d) => ({ ...d })) } : {}),
            },
            this.#now(),
          );
          return done();
        }
        const retryAfterMs =
          isSandboxError(error) && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
        const lastError = isSandboxError(error)
          ? { code: error.code, message: error.message }
          : { code: "InternalError", message: "An unexpected error; retrying." };
        if (!isSandboxError(error))
          this.#log({
            level: "error",
            msg: "step threw",
            operationId: op.id,
            step: step.name,
            error: error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error),
          });
        retryStep(op, lastError, (attempts) => this.#backoffMs(attempts), retryAfterMs, this.#now());
        return done();
      }
      if (
        applyStepOutcome(op, kind, step.name, outcome, {
          now: this.#now(),
          wallMs: (seconds) => this.wallMs(seconds),
        }) === "stop"
      )
        return done();
    }
    op.nextPollAt = this.#now();
    return done();
  }

  /**
   * Seconds a client should wait before asking again about `op` (for
   * `Retry-After`): the time to its next poll, at least 1, at most 60.
   */
  retryAfterSeconds(op: OperationRecord): number {
    const ms = op.nextPollAt - this.#now();
    return Math.max(1, Math.min(60, Math.ceil(ms / 1000)));
  }

  /**
   * One reconcile pass (the `reconcileOperations` timer): see {@link reconcilePass}.
   */
  reconcile(options: { passMs?: number } = {}): Promise<ReconcileReport> {
    return this.#tracing.pass(() => this.#reconcile(options));
  }

  #reconcile(options: { passMs?: number }): Promise<ReconcileReport> {
    return reconcilePass(
      {
        store: this.#store,
        advance: (id) => this.#advanceCoalesced(id, {}),
        instanceId: this.instanceId,
        now: this.#now,
        sleep: this.#sleep,
        log: this.#log,
        concurrency: this.settings.concurrency,
        retentionDays: this.settings.retentionDays,
      },
      options.passMs ?? this.settings.passMs,
    );
  }
}
