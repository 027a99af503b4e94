/**
 * The product's own ResourceQuota check before a Job is created: a job the
 * namespace's quota cannot take would otherwise sit `Pending` with
 * `FailedCreate` events until its deadline. Pure: reads the quota's
 * `spec.hard` and `status.used` as the cluster reports them.
 */
import type { KubernetesObject } from "../kubernetes/clusterKubernetes.js";
import { SandboxError } from "../sandboxError.js";

/** What one job's pod asks of the quota, in cores, MiB and MiB. */
export interface JobQuotaRequest {
  cpu: number;
  memoryMiB: number;
  ephemeralMiB: number;
}

const FACTORS: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

function quantity(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? (FACTORS[m[2]] ?? 1) : 1);
}

/**
 * @throws SandboxError `JobLimitExceeded` (422) when the job alone exceeds
 * the quota, `QuotaExceeded` (429, Retry-After) when the namespace is full
 * now. Quietly passes when the quota has no status yet.
 */
export function checkNamespaceQuota(
  quota: KubernetesObject | undefined,
  request: JobQuotaRequest,
  namespace: string,
): void {
  if (!quota) return;
  const hard = (quota.spec as { hard?: Record<string, unknown> } | undefined)?.hard ?? {};
  const used = (quota.status as { used?: Record<string, unknown> } | undefined)?.used ?? {};
  const asks: Array<[string, number, (n: number) => string]> = [
    ["pods", 1, (n) => String(n)],
    ["limits.cpu", request.cpu, (n) => `${Math.round(n * 1000) / 1000} vCPU`],
    ["limits.memory", request.memoryMiB * 2 ** 20, (n) => `${Math.round(n / 2 ** 20)} MiB`],
    ["limits.ephemeral-storage", request.ephemeralMiB * 2 ** 20, (n) => `${Math.round(n / 2 ** 20)} MiB`],
  ];
  for (const [resource, ask, show] of asks) {
    const limit = quantity(hard[resource]);
    if (limit === undefined) continue;
    const inUse = quantity(used[resource]) ?? 0;
    if (ask > limit + 1e-9) {
      throw new SandboxError(
        "JobLimitExceeded",
        `The job needs ${resource} ${show(ask)}, more than the whole quota of namespace "${namespace}" (${show(limit)}).`,
        {
          target: "body.resources.limits",
        },
      );
    }
    if (inUse + ask > limit + 1e-9) {
      throw new SandboxError(
        "QuotaExceeded",
        `Namespace "${namespace}" has no room for the job now: ${resource} in use ${show(inUse)} + ${show(ask)} > ${show(limit)} (its ResourceQuota). Wait for a job to finish or cancel one.`,
        { retryAfterSeconds: 30 },
      );
    }
  }
}
