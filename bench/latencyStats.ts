/** Latency samples (milliseconds) summarised the way results.json reports them. */
export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    meanMs: round(mean),
  };
}

/** `measured / floor`, two decimals. */
export function ratio(measured: number, floor: number): number {
  return Math.round((measured / floor) * 100) / 100;
}

/** Milliseconds `action` takes, with `performance.now()`. */
export async function timed(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

/**
 * Runs `measured` and `floor` alternately, `rounds` times each after
 * `warmup` unrecorded rounds, so both see the same machine load (2 shared
 * cores) instead of one running in a quiet moment and the other in a busy one.
 */
export async function interleaved(
  rounds: number,
  warmup: number,
  measured: (i: number) => Promise<unknown>,
  floor: (i: number) => Promise<unknown>,
): Promise<{ measured: number[]; floor: number[] }> {
  const out = { measured: [] as number[], floor: [] as number[] };
  for (let i = 0; i < warmup + rounds; i++) {
    const m = await timed(() => measured(i));
    const f = await timed(() => floor(i));
    if (i >= warmup) {
      out.measured.push(m);
      out.floor.push(f);
    }
  }
  return out;
}
