/** A dependency the service needs to be ready (Table Storage, …). */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the dependency answers; rejects with a secret-free message otherwise. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  status: "ready" | "notReady";
  checks: { name: string; ok: boolean; message?: string }[];
}

/**
 * The `readyz` use-case: runs every check concurrently and reports each.
 * `configurationProblems` lists invalid setting names (ready only when empty).
 */
export async function readyz(
  checks: readonly ReadinessCheck[],
  configurationProblems: readonly string[],
): Promise<ReadinessReport> {
  const results: ReadinessReport["checks"] = [];
  results.push(
    configurationProblems.length === 0
      ? { name: "configuration", ok: true }
      : { name: "configuration", ok: false, message: `invalid settings: ${configurationProblems.join(", ")}` },
  );
  const outcomes = await Promise.allSettled(checks.map((c) => c.check()));
  outcomes.forEach((outcome, i) => {
    const name = checks[i]!.name;
    results.push(
      outcome.status === "fulfilled"
        ? { name, ok: true }
        : { name, ok: false, message: outcome.reason instanceof Error ? outcome.reason.message : "failed" },
    );
  });
  return { status: results.every((r) => r.ok) ? "ready" : "notReady", checks: results };
}
