/**
 * The simulated clock shared by the ARM and Kubernetes emulators.
 *
 * Simulated time runs `1 / scale` times faster than wall time: with
 * `scale = 0.01` one simulated minute passes in 600 ms of wall time. Every
 * delay the emulators apply (feature registration, pool creation, pod
 * lifecycle) and every `Retry-After` they send is expressed in simulated
 * seconds and converted with {@link SimulatedClock.toWallMs}.
 */
export class SimulatedClock {
  /** Wall-clock milliseconds since the epoch when the clock was created. */
  readonly #wallStart: number;
  /** Simulated milliseconds since the epoch at creation (starts at wall time). */
  readonly #simStart: number;

  /**
   * @param scale wall seconds per simulated second, in (0, 1]; 1 = real time.
   * @param simNowMs simulated time to start from (a restored state's clock); default and minimum: wall time.
   */
  constructor(
    readonly scale: number = 1,
    simNowMs?: number,
  ) {
    if (!(scale > 0 && scale <= 1)) {
      throw new RangeError(`SIM_TIME_SCALE must be a number in (0, 1], got ${scale}`);
    }
    this.#wallStart = Date.now();
    // A restored clock never runs backwards: stored LRO times are simulated ms.
    this.#simStart = Math.max(this.#wallStart, simNowMs ?? 0);
  }

  /** Current simulated time in epoch milliseconds. */
  nowMs(): number {
    return this.#simStart + (Date.now() - this.#wallStart) / this.scale;
  }

  /** Current simulated time. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** Converts a simulated duration (ms) to the wall-clock duration (ms) it takes. */
  toWallMs(simulatedMs: number): number {
    return simulatedMs * this.scale;
  }

  /** Converts a wall-clock duration (ms) into simulated ms. */
  toSimulatedMs(wallMs: number): number {
    return wallMs / this.scale;
  }

  /** Resolves after `simulatedMs` of simulated time (never negative). */
  async sleep(simulatedMs: number, signal?: AbortSignal): Promise<void> {
    const { setTimeout: wait } = await import("node:timers/promises");
    await wait(Math.max(0, this.toWallMs(simulatedMs)), undefined, signal ? { signal } : undefined);
  }
}

/** Reads `SIM_TIME_SCALE` (default 1 = real time). */
export function simulatedClockFromEnv(env: NodeJS.ProcessEnv = process.env, simNowMs?: number): SimulatedClock {
  const raw = env.SIM_TIME_SCALE;
  return new SimulatedClock(raw === undefined || raw === "" ? 1 : Number(raw), simNowMs);
}
