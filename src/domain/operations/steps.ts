import type { ArmCallContext, ArmLroProgress, ArmLroRequest, ArmOperations } from "./armOperations.js";
import type { OperationError, OperationRecord } from "./operation.js";

/**
 * What a step sees when the engine advances it. Everything is plain data
 * from the row; a step must be idempotent: the engine may run the same tick
 * again after a crash.
 */
export interface StepContext<TInput extends object = object> {
  readonly operation: Readonly<OperationRecord>;
  /** The operation's input (the intended work), typed per kind (see operationInputs.ts). */
  readonly input: Readonly<TInput>;
  /** Outputs of the steps before this one. */
  readonly data: Readonly<Record<string, unknown>>;
  /** This step's own state from its previous tick (empty on the first). */
  readonly state: Readonly<Record<string, unknown>>;
  readonly arm: ArmOperations;
  /** Correlation id for ARM calls. */
  readonly call: ArmCallContext;
  /** Wall-clock now, epoch ms. */
  readonly now: number;
  /** Service seconds (the engine's time scale applied) from the wall instant `since` to `now`. */
  serviceSecondsSince(since: number): number;
  /**
   * Writes `state` to the row (ETag-checked) before a side effect, so that a
   * crash right after the side effect is recognised on resume. Throws
   * `SandboxError("PreconditionFailed")` when the row changed meanwhile.
   */
  checkpoint(state: Record<string, unknown>): Promise<void>;
  /** Counts ARM calls for the row's `armCalls` (and the per-subscription budget). */
  countArmCall(count?: number): void;
}

/** The outcome of one tick of a step. */
export type StepOutcome =
  /** The step finished; `data` is merged into the operation's data, `result` becomes the result if it is the last step. */
  | { readonly type: "done"; readonly data?: Record<string, unknown>; readonly result?: unknown }
  /**
   * Not finished: look again after `afterSeconds` (service seconds, scaled by
   * SIM_TIME_SCALE in simulated mode) and never before `retryAfterMs` (wall
   * ms, the service's Retry-After).
   */
  | {
      readonly type: "wait";
      readonly state?: Record<string, unknown>;
      readonly afterSeconds: number;
      readonly retryAfterMs?: number;
      readonly message?: string;
      readonly percentComplete?: number;
    }
  /** A permanent failure: the operation ends `Failed` with this error. */
  | { readonly type: "fail"; readonly error: OperationError };

/**
 * One named step of an operation kind. Build steps with {@link lroStep},
 * {@link waitForStep} and {@link actionStep}, or implement `advance` directly
 * (a custom async step). Thrown `SandboxError`s that are transient
 * (throttled, unavailable, retryable ARM codes) are retried by the engine
 * with backoff; other errors fail the operation.
 */
export interface StepDefinition<TInput extends object = object> {
  readonly name: string;
  advance(context: StepContext<TInput>): Promise<StepOutcome>;
  /** Stops service-side work when a cancel arrives while the step runs (e.g. AKS operation-abort). */
  abort?(context: StepContext<TInput>): Promise<void>;
  /** True when the step has started side effects (so a cancel must abort or wait). Default: state is non-empty. */
  started?(state: Readonly<Record<string, unknown>>): boolean;
}

/** What a probe found out about the target of an LRO step. */
export type ProbeOutcome =
  /** Nothing matching: issue the start call. */
  | { readonly type: "start" }
  /** Already in the requested state: the step is done without an ARM write. */
  | { readonly type: "done"; readonly result?: unknown }
  /** An earlier start of ours is still running at ARM: keep probing until it settles. */
  | { readonly type: "inProgress" }
  /** The target ended in a failure. */
  | { readonly type: "failed"; readonly error: OperationError };

/** Options of {@link lroStep}. */
export interface LroStepOptions<TInput extends object = object> {
  readonly name: string;
  /** The ARM call (PUT/DELETE), rebuilt from the row on every start. */
  request(context: StepContext<TInput>): ArmLroRequest;
  /**
   * How long the operation typically takes, service seconds: the early polls
   * happen at `typicalSeconds × earlyPollFractions` (default 0.25, 0.5, 0.9 —
   * so a pool that finishes in a third of the typical time is seen within
   * a quarter of it, for two extra reads), later polls every `intervalSeconds`
   * (default 10). A `Retry-After` is always honoured.
   */
  readonly typicalSeconds: number;
  readonly earlyPollFractions?: readonly number[];
  readonly intervalSeconds?: number;
  /**
   * Reads the target before a start is re-issued (a previous attempt may
   * have reached ARM before a crash), so that the work is adopted instead of
   * repeated. Without a probe the start is simply re-issued (PUT/DELETE are
   * idempotent).
   */
  probe?(context: StepContext<TInput>): Promise<ProbeOutcome>;
  /** Stops the running ARM operation when the operation is canceled. */
  abort?(context: StepContext<TInput>): Promise<void>;
  /** Maps ARM's final resource to step data and the operation result. */
  onSucceeded?(result: unknown, context: StepContext<TInput>): { data?: Record<string, unknown>; result?: unknown };
}

/** The plain-data state of an LRO step (kept in the row). */
export interface LroStepState {
  /** Serialized SDK poller state once ARM accepted the call. */
  pollerState?: string;
  /** Start calls attempted (incremented in the row *before* each call). */
  startAttempts?: number;
  /** Polls issued so far. */
  polls?: number;
  /** Set while an adopted ARM operation is followed by reading the resource. */
  probing?: boolean;
  /** Wall ms when ARM accepted the call. */
  acceptedAt?: number;
}

function armFailure(error: { code: string; message: string } | undefined, fallback: string): OperationError {
  const code = error?.code ?? "Unknown";
  const message = error?.message ?? fallback;
  return { code: "UpstreamFailed", message: `Azure reported ${code}: ${message}`, details: [{ code, message }] };
}

/**
 * A step that starts an ARM long-running operation, stores the serialized
 * SDK poller state in the row and polls it once per tick with adaptive
 * timing (see {@link LroStepOptions.typicalSeconds}).
 */
export function lroStep<TInput extends object = object>(options: LroStepOptions<TInput>): StepDefinition<TInput> {
  const interval = options.intervalSeconds ?? 10;
  const fractions = options.earlyPollFractions ?? [0.25, 0.5, 0.9];
  /**
   * Service seconds until the next poll, after `polls` polls (0: just
   * started): early polls are placed relative to ARM's acceptance, so the
   * time each pass takes does not push them later and later.
   */
  const nextPollAfter = (polls: number, state: LroStepState, context: StepContext<TInput>): number => {
    const at = fractions[polls];
    if (at === undefined) return interval;
    const elapsed = state.acceptedAt === undefined ? 0 : context.serviceSecondsSince(state.acceptedAt);
    return Math.max(1, at * options.typicalSeconds - elapsed);
  };

  const fromProgress = (progress: ArmLroProgress, state: LroStepState, context: StepContext<TInput>): StepOutcome => {
    switch (progress.status) {
      case "succeeded": {
        const mapped = options.onSucceeded?.(progress.result, context) ?? { result: progress.result };
        return {
          type: "done",
          ...(mapped.data ? { data: mapped.data } : {}),
          ...(mapped.result !== undefined ? { result: mapped.result } : {}),
        };
      }
      case "failed":
        return { type: "fail", error: armFailure(progress.error, "The Azure operation failed.") };
      case "canceled":
        return {
          type: "fail",
          error: {
            code: "Canceled",
            message: "The Azure operation was canceled.",
            details: [
              { code: progress.error?.code ?? "OperationCanceled", message: progress.error?.message ?? "canceled" },
            ],
          },
        };
      case "running": {
        const next: LroStepState = { ...state, probing: false };
        if (progress.pollerState !== undefined) next.pollerState = progress.pollerState;
        return {
          type: "wait",
          state: next as Record<string, unknown>,
          afterSeconds: nextPollAfter(state.polls ?? 0, state, context),
          ...(progress.retryAfterMs !== undefined ? { retryAfterMs: progress.retryAfterMs } : {}),
          ...(progress.percentComplete !== undefined ? { percentComplete: progress.percentComplete } : {}),
        };
      }
    }
  };

  const fromProbe = async (context: StepContext<TInput>, state: LroStepState): Promise<StepOutcome | undefined> => {
    if (!options.probe) return undefined;
    const found = await options.probe(context);
    switch (found.type) {
      case "start":
        return undefined;
      case "done": {
        const mapped = options.onSucceeded?.(found.result, context) ?? { result: found.result };
        return {
          type: "done",
          ...(mapped.data ? { data: mapped.data } : {}),
          ...(mapped.result !== undefined ? { result: mapped.result } : {}),
        };
      }
      case "failed":
        return { type: "fail", error: found.error };
      case "inProgress":
        return {
          type: "wait",
          state: { ...state, probing: true },
          afterSeconds: interval,
          message: "Following an Azure operation started by an earlier attempt",
        };
    }
  };

  return {
    name: options.name,
    started: (s) => (s as LroStepState).pollerState !== undefined || ((s as LroStepState).startAttempts ?? 0) > 0,
    ...(options.abort ? { abort: (context: StepContext<TInput>) => options.abort!(context) } : {}),
    async advance(context) {
      const state = context.state as LroStepState;
      if (state.pollerState !== undefined) {
        context.countArmCall();
        const progress = await context.arm.pollLro(state.pollerState, context.call);
        return fromProgress(progress, { ...state, polls: (state.polls ?? 0) + 1 }, context);
      }
      if (state.probing || (state.startAttempts ?? 0) > 0) {
        const adopted = await fromProbe(context, state);
        if (adopted) return adopted;
      }
      const attempt: LroStepState = { ...state, probing: false, startAttempts: (state.startAttempts ?? 0) + 1 };
      // The row records the attempt before the call: a crash after the call is recognised on resume.
      await context.checkpoint(attempt as Record<string, unknown>);
      context.countArmCall();
      const progress = await context.arm.startLro(options.request(context), context.call);
      return fromProgress(progress, { ...attempt, polls: 0, acceptedAt: context.now }, context);
    },
  };
}

/** Options of {@link waitForStep}. */
export interface WaitForStepOptions<TInput extends object = object> {
  readonly name: string;
  /**
   * One read: is the condition met? `fail` ends the operation. A check that
   * finds its target in a state it cannot leave on its own re-issues the
   * idempotent request or fails — it never waits out the deadline; `state` is
   * kept in the step's state for the next check (e.g. how often it re-issued),
   * and `recheckSoon` restarts the interval at its base (something was just re-issued).
   */
  check(context: StepContext<TInput>): Promise<{
    done: boolean;
    message?: string;
    data?: Record<string, unknown>;
    result?: unknown;
    fail?: OperationError;
    state?: Record<string, unknown>;
    recheckSoon?: boolean;
  }>;
  /** Service seconds before the first check (default 0). */
  readonly firstCheckSeconds?: number;
  /** Service seconds between checks, growing by `growth` (default 1.5) up to `maxIntervalSeconds` (default 300). Default 10. */
  readonly intervalSeconds?: number;
  readonly maxIntervalSeconds?: number;
  readonly growth?: number;
}

/**
 * A step that waits for a condition by reading (e.g. a feature reaching
 * `Registered`), with a growing interval so that hour-long waits never
 * busy-poll. Its message says how long it has been waiting.
 */
export function waitForStep<TInput extends object = object>(
  options: WaitForStepOptions<TInput>,
): StepDefinition<TInput> {
  const base = options.intervalSeconds ?? 10;
  const max = options.maxIntervalSeconds ?? 300;
  const growth = options.growth ?? 1.5;
  return {
    name: options.name,
    started: () => false,
    async advance(context) {
      const state = context.state as { checks?: number; interval?: number; since?: number };
      const since = state.since ?? context.now;
      if (state.checks === undefined && (options.firstCheckSeconds ?? 0) > 0) {
        return {
          type: "wait",
          state: { checks: 0, interval: base, since },
          afterSeconds: options.firstCheckSeconds ?? 0,
        };
      }
      const outcome = await options.check(context);
      if (outcome.fail) return { type: "fail", error: outcome.fail };
      if (outcome.done)
        return {
          type: "done",
          ...(outcome.data ? { data: outcome.data } : {}),
          ...(outcome.result !== undefined ? { result: outcome.result } : {}),
        };
      const interval = outcome.recheckSoon ? base : Math.min(max, state.interval ?? base);
      return {
        type: "wait",
        state: {
          ...context.state,
          ...outcome.state,
          checks: (state.checks ?? 0) + 1,
          interval: Math.min(max, interval * growth),
          since,
        },
        afterSeconds: interval,
        message: outcome.message ?? `Waiting since ${new Date(since).toISOString()}`,
      };
    },
  };
}

/** A one-shot step (idempotent custom work, e.g. a synchronous ARM POST or a Kubernetes check). */
export function actionStep<TInput extends object = object>(
  name: string,
  run: (context: StepContext<TInput>) => Promise<{ data?: Record<string, unknown>; result?: unknown } | void>,
): StepDefinition<TInput> {
  return {
    name,
    started: () => false,
    async advance(context) {
      const out = (await run(context)) ?? {};
      return {
        type: "done",
        ...(out.data ? { data: out.data } : {}),
        ...(out.result !== undefined ? { result: out.result } : {}),
      };
    },
  };
}
