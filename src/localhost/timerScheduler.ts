import { randomUUID } from "node:crypto";
import { Cron } from "croner";
import type { LogSink } from "./accessLog.js";
import { functionInvocationContext } from "./functionInvocationContext.js";
import type { FunctionRegistry, RegisteredFunction } from "./functionRegistry.js";

export interface TimerSchedulerOptions {
  registry: FunctionRegistry;
  /** Start the schedules; when false, timers only run when fired by hand. */
  enableTimers: boolean;
  log: LogSink;
  /** Registers a run the host waits for when it drains. */
  track: (work: Promise<unknown>) => void;
}

interface TimerState {
  fn: RegisteredFunction;
  cron: Cron | undefined;
  running: Promise<void> | undefined;
  last: Date | undefined;
}

/**
 * The timer triggers of the local host, as the Functions host runs them:
 * six-field NCRONTAB schedules (with seconds), `runOnStartup`, no overlapping
 * runs of one timer (a tick during a run is skipped), and runs fired by hand
 * (tests, `POST /admin/functions/{name}`).
 */
export class TimerScheduler {
  readonly #options: TimerSchedulerOptions;
  readonly #timers = new Map<string, TimerState>();

  constructor(options: TimerSchedulerOptions) {
    this.#options = options;
  }

  /** Reads the registrations and starts their schedules. Throws on a schedule that is not six-field NCRONTAB. */
  schedule(): void {
    for (const fn of this.#options.registry.timers()) {
      const schedule = String(fn.trigger.schedule ?? "");
      const fields = schedule.trim().split(/\s+/);
      if (fields.length !== 6)
        throw new Error(`Timer "${fn.name}": schedule "${schedule}" must be a six-field NCRONTAB expression`);
      const state: TimerState = { fn, cron: undefined, running: undefined, last: undefined };
      if (this.#options.enableTimers) {
        state.cron = new Cron(schedule, { protect: true, catch: false }, () => {
          if (state.running) {
            this.#options.log({
              level: "info",
              msg: "timer skipped: previous run still in progress",
              function: fn.name,
            });
            return;
          }
          void this.#runScheduled(state);
        });
      } else {
        // Validate the expression even when timers are off.
        new Cron(schedule, { paused: true }).stop();
      }
      this.#timers.set(fn.name.toLowerCase(), state);
    }
  }

  /** Starts the timers marked `runOnStartup` (when schedules are enabled). */
  runOnStartup(): void {
    if (!this.#options.enableTimers) return;
    for (const state of this.#timers.values()) {
      if (state.fn.trigger.runOnStartup === true) void this.#runScheduled(state);
    }
  }

  /** True when a timer function has that name (case-insensitive). */
  has(name: string): boolean {
    return this.#timers.has(name.toLowerCase());
  }

  /**
   * Runs a timer function now and resolves when that run has finished.
   * If a run is in progress, waits for it first (runs never overlap).
   * @throws if no timer function has that name.
   */
  async fire(name: string): Promise<void> {
    const state = this.#timers.get(name.toLowerCase());
    if (!state) throw new Error(`No timer function named "${name}"`);
    while (state.running) await state.running.catch(() => undefined);
    await this.#runTimer(state, false);
  }

  /** Stops every schedule (runs in progress continue). */
  stop(): void {
    for (const state of this.#timers.values()) state.cron?.stop();
  }

  /**
   * A run the schedule started: its failure is logged by {@link #runTimer} and
   * ends there, as in the Functions host (nobody awaits it; an unhandled
   * rejection would kill the whole process).
   */
  #runScheduled(state: TimerState): Promise<void> {
    return this.#runTimer(state, false).catch(() => undefined);
  }

  async #runTimer(state: TimerState, isPastDue: boolean): Promise<void> {
    const invocationId = randomUUID();
    const started = Date.now();
    const context = functionInvocationContext(state.fn, invocationId, this.#options.log);
    const timerInfo = {
      isPastDue,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: (state.last ?? new Date(0)).toISOString(),
        next: state.cron?.nextRun()?.toISOString() ?? new Date(0).toISOString(),
        lastUpdated: new Date().toISOString(),
      },
    };
    const run = (async () => {
      try {
        await state.fn.handler(timerInfo, context);
        this.#options.log({
          level: "info",
          msg: "timer",
          function: state.fn.name,
          outcome: "succeeded",
          durationMs: Date.now() - started,
          invocationId,
        });
      } catch (error) {
        this.#options.log({
          level: "error",
          msg: "timer",
          function: state.fn.name,
          outcome: "failed",
          durationMs: Date.now() - started,
          invocationId,
          error: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        state.last = new Date(started);
        state.running = undefined;
      }
    })();
    state.running = run;
    this.#options.track(run.catch(() => undefined));
    await run;
  }
}
