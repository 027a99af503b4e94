/**
 * The LimitRanger and ResourceQuota admission plugins for pods, as the API
 * server runs them: LimitRange `Container` defaults fill in missing limits
 * and requests, `max`/`min` are enforced, then every ResourceQuota of the
 * namespace must have room for the pod (`exceeded quota: <name>, requested:
 * …, used: …, limited: …`) and a quota on a resource requires the pod to
 * state it (`failed quota: <name>: must specify …`). Pod overhead
 * (`spec.overhead`, set from the RuntimeClass) counts, as upstream.
 */
import type { KubeObject, PodSpec } from "./kubernetesObjects.js";
import { parseQuantity } from "./parseQuantity.js";

interface LimitItem {
  type?: string;
  max?: Record<string, string | number>;
  min?: Record<string, string | number>;
  default?: Record<string, string | number>;
  defaultRequest?: Record<string, string | number>;
}

const COMPUTE = ["cpu", "memory", "ephemeral-storage"] as const;

/** LimitRanger's mutation: each container gets the `Container` defaults it lacks. Mutates `spec`. */
export function applyLimitRangeDefaults(spec: PodSpec, limitRanges: readonly KubeObject[]): void {
  const items = limitRanges.flatMap((lr) =>
    ((lr.spec as { limits?: LimitItem[] } | undefined)?.limits ?? []).filter((i) => i.type === "Container"),
  );
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const item of items) {
      const resources = (container.resources ??= {});
      for (const name of COMPUTE) {
        const limit = item.default?.[name];
        if (limit !== undefined && resources.limits?.[name] === undefined)
          resources.limits = { ...(resources.limits ?? {}), [name]: limit };
        const request = item.defaultRequest?.[name] ?? item.default?.[name];
        if (request !== undefined && resources.requests?.[name] === undefined) {
          resources.requests = { ...(resources.requests ?? {}), [name]: resources.limits?.[name] ?? request };
        }
      }
    }
  }
}

/** LimitRanger's validation: the `max`/`min` of `Container` items. The message after `is forbidden: `, or undefined. */
export function limitRangeRejection(spec: PodSpec, limitRanges: readonly KubeObject[]): string | undefined {
  const problems: string[] = [];
  const items = limitRanges.flatMap((lr) =>
    ((lr.spec as { limits?: LimitItem[] } | undefined)?.limits ?? []).filter((i) => i.type === "Container"),
  );
  for (const container of spec.containers) {
    for (const item of items) {
      for (const name of COMPUTE) {
        const max = item.max?.[name];
        const limit = container.resources?.limits?.[name];
        if (max !== undefined && limit !== undefined && (parseQuantity(limit) ?? 0) > (parseQuantity(max) ?? 0)) {
          problems.push(`maximum ${name} usage per Container is ${String(max)}, but limit is ${String(limit)}`);
        }
        const min = item.min?.[name];
        const request = container.resources?.requests?.[name];
        if (min !== undefined && request !== undefined && (parseQuantity(request) ?? 0) < (parseQuantity(min) ?? 0)) {
          problems.push(`minimum ${name} usage per Container is ${String(min)}, but request is ${String(request)}`);
        }
      }
    }
  }
  if (problems.length === 0) return undefined;
  return problems.length === 1 ? problems[0] : `[${problems.join(", ")}]`;
}

/** What one pod counts against a quota, by quota resource name (`pods`, `limits.cpu`, `requests.memory`, …). */
export function podUsage(spec: PodSpec): Record<string, number> {
  const usage: Record<string, number> = { pods: 1, count: 1 };
  const overhead = (spec as { overhead?: Record<string, string | number> }).overhead ?? {};
  for (const name of COMPUTE) {
    let requests = 0;
    let limits = 0;
    for (const c of spec.containers) {
      requests += parseQuantity(c.resources?.requests?.[name] ?? c.resources?.limits?.[name]) ?? 0;
      limits += parseQuantity(c.resources?.limits?.[name]) ?? 0;
    }
    const extra = parseQuantity(overhead[name]) ?? 0;
    usage[`requests.${name}`] = requests + extra;
    usage[`limits.${name}`] = limits + extra;
    usage[name] = requests + extra;
  }
  return usage;
}

/** Sums the usage of several pods. */
export function sumUsage(pods: readonly PodSpec[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const spec of pods) for (const [k, v] of Object.entries(podUsage(spec))) total[k] = (total[k] ?? 0) + v;
  return total;
}

/** A quantity as the API server prints it (`2`, `500m`, `4Gi`, `512Mi`). */
export function formatQuantity(resource: string, value: number): string {
  if (resource.endsWith("cpu")) {
    return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
  }
  if (resource === "pods" || resource === "count") return String(value);
  for (const [suffix, factor] of [
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (value >= factor && value % factor === 0) return `${value / factor}${suffix}`;
  }
  return String(value);
}

function limitedResources(quota: KubeObject): Array<[string, number]> {
  const hard = (quota.spec as { hard?: Record<string, string | number> } | undefined)?.hard ?? {};
  return Object.entries(hard)
    .filter(([name]) => name === "pods" || /^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/.test(name))
    .map(([name, value]) => [name, parseQuantity(value) ?? 0]);
}

/**
 * ResourceQuota admission of a new pod: the first quota that refuses it, as
 * the text after `is forbidden: `, or undefined. `used` = what the
 * namespace's other non-terminal pods already count.
 */
export function quotaRejection(
  spec: PodSpec,
  quotas: readonly KubeObject[],
  used: Readonly<Record<string, number>>,
): string | undefined {
  const request = podUsage(spec);
  for (const quota of [...quotas].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))) {
    const limited = limitedResources(quota);
    const name = quota.metadata.name ?? "";
    // A quota on limits/requests of cpu or memory requires every container to state them.
    const missing: string[] = [];
    for (const [resource] of limited) {
      const m = /^(requests\.|limits\.)?(cpu|memory)$/.exec(resource);
      if (!m) continue;
      const kind = m[1] === "limits." ? "limits" : "requests";
      const lacking = spec.containers.filter((c) => {
        const own =
          c.resources?.[kind]?.[m[2] ?? ""] ?? (kind === "requests" ? c.resources?.limits?.[m[2] ?? ""] : undefined);
        return own === undefined;
      });
      if (lacking.length) missing.push(`${resource} for: ${lacking.map((c) => c.name).join(",")}`);
    }
    if (missing.length) return `failed quota: ${name}: must specify ${missing.join("; ")}`;
    const over = limited.filter(([resource, hard]) => (used[resource] ?? 0) + (request[resource] ?? 0) > hard + 1e-9);
    if (over.length) {
      const list = (values: (resource: string, hard: number) => number) =>
        over.map(([resource, hard]) => `${resource}=${formatQuantity(resource, values(resource, hard))}`).join(",");
      return (
        `exceeded quota: ${name}, requested: ${list((r) => request[r] ?? 0)}, ` +
        `used: ${list((r) => used[r] ?? 0)}, limited: ${list((_r, hard) => hard)}`
      );
    }
  }
  return undefined;
}

/** `status` of a ResourceQuota: `hard` as given, `used` for the limited resources. */
export function quotaStatus(
  quota: KubeObject,
  used: Readonly<Record<string, number>>,
): { hard: Record<string, string>; used: Record<string, string> } {
  const hard = (quota.spec as { hard?: Record<string, string | number> } | undefined)?.hard ?? {};
  const out = { hard: {} as Record<string, string>, used: {} as Record<string, string> };
  for (const [name, value] of Object.entries(hard)) {
    out.hard[name] = String(value);
    out.used[name] = formatQuantity(name, used[name] ?? 0);
  }
  return out;
}
