/**
 * Per-job policy checks for job submissions: image registry allow-list,
 * per-job quotas (CPU, memory, timeout), who may run trusted (`isolation:
 * none`) pods and who may relax runAsNonRoot. Pure functions; the concurrent
 * jobs quota is counted in storage (`jobSlots.ts`).
 */
import type { Principal } from "../identity/principal.js";
import { hasRole } from "../identity/roles.js";
import { SandboxError } from "../sandboxError.js";
import type { TeamPolicy } from "./policy.js";

const DOCKER_HUB = "docker.io";

/**
 * Normalizes an image reference the way container runtimes resolve it:
 * `ubuntu` → `docker.io/library/ubuntu`, `team/app:1` → `docker.io/team/app:1`;
 * the registry host is lower-cased. References with a scheme or whitespace are
 * rejected (`undefined`).
 */
export function normalizeImageReference(image: string): string | undefined {
  if (image.length === 0 || image.length > 1024 || /\s|:\/\/|\.\./.test(image)) return undefined;
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
  const hasRegistry = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return `${first.toLowerCase()}${image.slice(slash)}`;
  return slash < 0 ? `${DOCKER_HUB}/library/${image}` : `${DOCKER_HUB}/${image}`;
}

/**
 * True when the image starts with one of the prefixes at a path boundary: a
 * prefix ending in `/` matches anything below it; `host` or `host/repo`
 * matches that host or repository exactly or anything under it
 * (`myacr.azurecr.io/team` matches `myacr.azurecr.io/team/app:1` and
 * `myacr.azurecr.io/team:1`, never `myacr.azurecr.io/teammate`).
 */
export function imageAllowed(allowedRegistries: readonly string[], image: string): boolean {
  const normalized = normalizeImageReference(image);
  if (normalized === undefined) return false;
  return allowedRegistries.some((raw) => {
    const prefix = raw.toLowerCase();
    if (prefix.endsWith("/")) return normalized.startsWith(prefix);
    if (!normalized.startsWith(prefix)) return false;
    const next = normalized.charAt(prefix.length);
    return next === "/" || next === ":" || next === "@";
  });
}

/**
 * @throws SandboxError `Forbidden` naming the allowed registries when the
 * team's allow-list does not cover the image.
 */
export function checkImageAllowed(team: TeamPolicy, image: string): void {
  if (imageAllowed(team.allowedRegistries, image)) return;
  const allowed =
    team.allowedRegistries.length === 0
      ? "none (the policy allows no registry for this team)"
      : team.allowedRegistries.join(", ");
  throw new SandboxError(
    "Forbidden",
    `Image "${image}" is not from a registry team "${team.name}" may use (allowedRegistries: ${allowed}).`,
    { target: "body.image" },
  );
}

/**
 * Parses a Kubernetes CPU quantity (`500m`, `2`, `0.5`, `1500000u`) into vCPU.
 * @returns undefined when the text is not a quantity.
 */
export function parseCpuQuantity(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(n|u|m|k|M|G)?$/.exec(text.trim());
  if (!match) return undefined;
  const scale: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9 };
  return Number(match[1]) * (match[2] ? scale[match[2]]! : 1);
}

/**
 * Parses a Kubernetes memory quantity (`512Mi`, `1Gi`, `1G`, `1e9`, `1048576`) into MiB.
 * @returns undefined when the text is not a quantity.
 */
export function parseMemoryQuantityMiB(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE]([0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(
    text.trim(),
  );
  if (!match) return undefined;
  const bytesPer: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    m: 1e-3,
  };
  const bytes = Number(match[1]) * (match[2] ? 10 ** Number(match[2]) : 1) * (match[3] ? bytesPer[match[3]]! : 1);
  return bytes / 2 ** 20;
}

/** The parts of a job submission the per-job quotas look at. */
export interface JobResourceRequest {
  /** `resources.limits.cpu` as sent (Kubernetes quantity), if any. */
  readonly cpuLimit?: string | undefined;
  /** `resources.limits.memory` as sent (Kubernetes quantity), if any. */
  readonly memoryLimit?: string | undefined;
  /** The effective `timeoutSeconds` (after the route's default). */
  readonly timeoutSeconds: number;
}

/**
 * Per-job quotas: limits.cpu ≤ maxVCpuPerJob, limits.memory ≤
 * maxMemoryMiBPerJob, timeoutSeconds ≤ maxTimeoutSeconds. A job without
 * limits gets the sandbox default VM (1 vCPU, 2 GiB) and passes the CPU and
 * memory checks. Every exceeded limit is reported (one detail each).
 * @throws SandboxError `InvalidRequest` for an unparsable quantity;
 * `JobLimitExceeded` (422: the job itself is too big, retrying cannot
 * help — unlike `QuotaExceeded` 429, which clients retry) naming each
 * exceeded limit.
 */
export function checkJobQuotas(team: TeamPolicy, job: JobResourceRequest): void {
  const q = team.quotas;
  const details: { code: "JobLimitExceeded"; target: string; message: string }[] = [];
  if (job.cpuLimit !== undefined) {
    const cpu = parseCpuQuantity(job.cpuLimit);
    if (cpu === undefined)
      throw new SandboxError(
        "InvalidRequest",
        `resources.limits.cpu "${job.cpuLimit}" is not a Kubernetes CPU quantity.`,
        { target: "body.resources.limits.cpu" },
      );
    if (cpu > q.maxVCpuPerJob)
      details.push({
        code: "JobLimitExceeded",
        target: "body.resources.limits.cpu",
        message: `cpu ${job.cpuLimit} exceeds maxVCpuPerJob (${q.maxVCpuPerJob} vCPU) of team "${team.name}"`,
      });
  }
  if (job.memoryLimit !== undefined) {
    const mib = parseMemoryQuantityMiB(job.memoryLimit);
    if (mib === undefined)
      throw new SandboxError(
        "InvalidRequest",
        `resources.limits.memory "${job.memoryLimit}" is not a Kubernetes memory quantity.`,
        { target: "body.resources.limits.memory" },
      );
    if (mib > q.maxMemoryMiBPerJob)
      details.push({
        code: "JobLimitExceeded",
        target: "body.resources.limits.memory",
        message: `memory ${job.memoryLimit} exceeds maxMemoryMiBPerJob (${q.maxMemoryMiBPerJob} MiB) of team "${team.name}"`,
      });
  }
  if (job.timeoutSeconds > q.maxTimeoutSeconds) {
    details.push({
      code: "JobLimitExceeded",
      target: "body.timeoutSeconds",
      message: `timeoutSeconds ${job.timeoutSeconds} exceeds maxTimeoutSeconds (${q.maxTimeoutSeconds}) of team "${team.name}"`,
    });
  }
  if (details.length > 0) {
    const first = details[0]!;
    throw new SandboxError(
      "JobLimitExceeded",
      `${first.message[0]!.toUpperCase()}${first.message.slice(1)}${details.length > 1 ? ` (and ${details.length - 1} more)` : ""}.`,
      { target: first.target, details },
    );
  }
}

/**
 * Trusted pods (`isolation: none`) share the node kernel, so they need the
 * Operator role (docs/api-conventions.md).
 * @throws SandboxError `Forbidden` naming the role.
 */
export function checkIsolationAllowed(principal: Principal, isolation: "sandbox" | "none"): void {
  if (isolation === "none" && !hasRole(principal, "Sandbox.Operator")) {
    throw new SandboxError(
      "Forbidden",
      'isolation "none" runs on the shared node kernel and needs the Sandbox.Operator role (or higher).',
      { target: "body.isolation" },
    );
  }
}

/**
 * Whether the job's pod must set `runAsNonRoot: true`: always, unless the
 * team's policy sets `allowRunAsRoot` and the pod is sandboxed (its root is
 * confined to the Kata VM). Never relaxed for trusted pods.
 */
export function runAsNonRootRequired(team: TeamPolicy, isolation: "sandbox" | "none"): boolean {
  return !(team.allowRunAsRoot && isolation === "sandbox");
}
