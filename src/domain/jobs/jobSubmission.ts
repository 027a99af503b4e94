/**
 * Validation of a job submission (`submitJob` body) beyond what the OpenAPI
 * schema expresses: image reference syntax, Kubernetes quantities, sizes,
 * host namespaces, team limits and roles. Pure: runs before anything touches
 * a cluster, so bad input never reaches Kubernetes.
 */
import type { Principal } from "../identity/principal.js";
import {
  checkImageAllowed,
  checkIsolationAllowed,
  checkJobQuotas,
  parseCpuQuantity,
  parseMemoryQuantityMiB,
  runAsNonRootRequired,
} from "../policy/jobLimits.js";
import type { TeamPolicy } from "../policy/policy.js";
import { SandboxError } from "../sandboxError.js";

export type JobIsolation = "sandbox" | "none";

/** The `submitJob` body as the OpenAPI schema admits it. */
export interface JobSubmissionBody {
  name?: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  resources?: { limits?: { cpu?: string; memory?: string }; requests?: { cpu?: string; memory?: string } };
  isolation?: JobIsolation;
  timeoutSeconds?: number;
  ttlSecondsAfterFinished?: number;
  backoffLimit?: number;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}

/** A validated submission with defaults applied. */
export interface JobSpec {
  /** DNS-1123 label; generated (`job-xxxxxxxx`) when the body names none. */
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: Record<string, string>;
  limits: { cpu?: string; memory?: string };
  requests: { cpu?: string; memory?: string };
  /** Parsed `limits.cpu`, vCPU. */
  cpuLimit: number | undefined;
  /** Parsed `limits.memory`, MiB. */
  memoryLimitMiB: number | undefined;
  isolation: JobIsolation;
  /** Seconds; becomes `activeDeadlineSeconds`. */
  timeoutSeconds: number;
  /** Seconds Kubernetes keeps the finished Job before deleting it. */
  ttlSecondsAfterFinished: number;
  backoffLimit: number;
  runAsNonRoot: boolean;
  /** Shown on the job view (e.g. requests ignored by the sandbox runtime). */
  warnings: string[];
}

/** Bounds and defaults of job fields. */
export const JOB_LIMITS = Object.freeze({
  /** Default `timeoutSeconds` (capped at the team's maximum). */
  defaultTimeoutSeconds: 3600,
  /** Default `ttlSecondsAfterFinished`. */
  defaultTtlSecondsAfterFinished: 3600,
  /** Lower bound of `ttlSecondsAfterFinished`: the job timer must see the finished Job to capture its logs. */
  minTtlSecondsAfterFinished: 30,
  /** Upper bound of `backoffLimit`. */
  maxBackoffLimit: 3,
  /** Upper bound of command + args + env (names and values), UTF-8 bytes. */
  maxCommandAndEnvBytes: 128 * 1024,
});

/** The warning a sandboxed job with `resources.requests` gets (docs/api-conventions.md). */
export const REQUESTS_IGNORED_WARNING = "resources.requests are ignored by the preview sandbox runtime";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// distribution/reference grammar (github.com/distribution/reference, regexp.go), without IPv6 hosts.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?)`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::${TAG})?(?:@${DIGEST})?$`,
);

/**
 * True when `image` is a valid image reference (`[host[:port]/]path[:tag][@digest]`,
 * lower-case repository path, name ≤ 255 characters), as container runtimes parse it.
 */
export function isValidImageReference(image: string): boolean {
  const match = IMAGE_REFERENCE.exec(image);
  return match !== null && (match[1]?.length ?? 0) <= 255;
}

/** True for a DNS-1123 label (lower-case alphanumerics and `-`, ≤ 63 characters). */
export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

function invalid(target: string, message: string): SandboxError {
  return new SandboxError("InvalidRequest", message, {
    target,
    details: [{ code: "InvalidRequest", target, message }],
  });
}

function quantity(kind: "cpu" | "memory", where: "limits" | "requests", text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = kind === "cpu" ? parseCpuQuantity(text) : parseMemoryQuantityMiB(text);
  const target = `body.resources.${where}.${kind}`;
  if (value === undefined)
    throw invalid(
      target,
      `resources.${where}.${kind} "${text}" is not a Kubernetes ${kind === "cpu" ? "CPU" : "memory"} quantity (e.g. ${kind === "cpu" ? '"500m" or "2"' : '"512Mi" or "2Gi"'}).`,
    );
  if (!(value > 0)) throw invalid(target, `resources.${where}.${kind} must be greater than zero, got "${text}".`);
  if (kind === "cpu" && value < 0.001)
    throw invalid(target, `resources.${where}.cpu "${text}" is below Kubernetes' precision of 1m.`);
  return value;
}

/** Everything {@link validateJobSubmission} needs besides the body. */
export interface JobSubmissionContext {
  readonly principal: Principal;
  readonly team: TeamPolicy;
  /** Makes the name when the body gives none. */
  readonly generateName: () => string;
}

/**
 * Validates a submission and applies defaults. Checks, in order: host
 * namespaces, name, image syntax, sizes, quantities, requests ≤ limits,
 * `ttlSecondsAfterFinished` and `backoffLimit` bounds, the isolation role,
 * the team's registry allow-list, and the team's per-job quotas. Pure.
 * @throws SandboxError `HostNetworkNotSupported` (422) for `hostNetwork` /
 * `hostPID` / `hostIPC`; `InvalidRequest` (400) naming the field;
 * `Forbidden` (403) for `isolation: none` without Operator or a registry the
 * team may not use; `QuotaExceeded` (429) for limits or a timeout above the
 * team's maximums.
 */
export function validateJobSubmission(body: JobSubmissionBody, context: JobSubmissionContext): JobSpec {
  const isolation: JobIsolation = body.isolation ?? "sandbox";
  const host = (["hostNetwork", "hostPID", "hostIPC"] as const).filter((f) => body[f] === true);
  if (host.length > 0) {
    const first = host[0]!;
    throw new SandboxError(
      "HostNetworkNotSupported",
      isolation === "sandbox"
        ? `${host.join(", ")}: sandboxed pods run in their own Kata VM and cannot share the node's network, PID or IPC namespace (a documented Pod Sandboxing limitation).`
        : `${host.join(", ")}: jobs never get the node's network, PID or IPC namespace.`,
      {
        target: `body.${first}`,
        details: host.map((f) => ({
          code: "HostNetworkNotSupported",
          target: `body.${f}`,
          message: `${f} must be false`,
        })),
      },
    );
  }

  const name = body.name ?? context.generateName();
  if (!isDns1123Label(name))
    throw invalid(
      "body.name",
      `name "${name}" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters).`,
    );

  if (!isValidImageReference(body.image)) {
    throw invalid(
      "body.image",
      `image "${body.image}" is not a valid image reference ([registry[:port]/]repository[:tag][@sha256:digest], lower-case repository).`,
    );
  }

  const command = body.command ?? [];
  const args = body.args ?? [];
  const env = body.env ?? {};
  const bytes = [...command, ...args, ...Object.entries(env).flat()].reduce(
    (sum, s) => sum + Buffer.byteLength(s, "utf8"),
    0,
  );
  if (bytes > JOB_LIMITS.maxCommandAndEnvBytes) {
    throw invalid(
      "body",
      `command, args and env together take ${bytes} bytes; at most ${JOB_LIMITS.maxCommandAndEnvBytes} are allowed.`,
    );
  }

  const limits = { ...(body.resources?.limits ?? {}) };
  const requests = { ...(body.resources?.requests ?? {}) };
  const cpuLimit = quantity("cpu", "limits", limits.cpu);
  const memoryLimitMiB = quantity("memory", "limits", limits.memory);
  const cpuRequest = quantity("cpu", "requests", requests.cpu);
  const memoryRequestMiB = quantity("memory", "requests", requests.memory);
  // Kubernetes rejects requests above limits; say so here instead of failing at the API server.
  if (cpuRequest !== undefined && cpuLimit !== undefined && cpuRequest > cpuLimit)
    throw invalid(
      "body.resources.requests.cpu",
      `resources.requests.cpu "${requests.cpu}" exceeds resources.limits.cpu "${limits.cpu}".`,
    );
  if (memoryRequestMiB !== undefined && memoryLimitMiB !== undefined && memoryRequestMiB > memoryLimitMiB) {
    throw invalid(
      "body.resources.requests.memory",
      `resources.requests.memory "${requests.memory}" exceeds resources.limits.memory "${limits.memory}".`,
    );
  }

  const ttlSecondsAfterFinished = body.ttlSecondsAfterFinished ?? JOB_LIMITS.defaultTtlSecondsAfterFinished;
  if (ttlSecondsAfterFinished < JOB_LIMITS.minTtlSecondsAfterFinished) {
    throw invalid(
      "body.ttlSecondsAfterFinished",
      `ttlSecondsAfterFinished must be at least ${JOB_LIMITS.minTtlSecondsAfterFinished} (the logs are captured after the job finishes), got ${ttlSecondsAfterFinished}.`,
    );
  }
  const backoffLimit = body.backoffLimit ?? 0;
  if (backoffLimit > JOB_LIMITS.maxBackoffLimit)
    throw invalid(
      "body.backoffLimit",
      `backoffLimit must be at most ${JOB_LIMITS.maxBackoffLimit}, got ${backoffLimit}.`,
    );

  checkIsolationAllowed(context.principal, isolation);
  checkImageAllowed(context.team, body.image);
  const timeoutSeconds =
    body.timeoutSeconds ?? Math.min(JOB_LIMITS.defaultTimeoutSeconds, context.team.quotas.maxTimeoutSeconds);
  checkJobQuotas(context.team, { cpuLimit: limits.cpu, memoryLimit: limits.memory, timeoutSeconds });

  const warnings: string[] = [];
  if (isolation === "sandbox" && (requests.cpu !== undefined || requests.memory !== undefined))
    warnings.push(REQUESTS_IGNORED_WARNING);

  return {
    name,
    image: body.image,
    command: [...command],
    args: [...args],
    env: { ...env },
    limits,
    requests,
    cpuLimit,
    memoryLimitMiB,
    isolation,
    timeoutSeconds,
    ttlSecondsAfterFinished,
    backoffLimit,
    runAsNonRoot: runAsNonRootRequired(context.team, isolation),
    warnings,
  };
}
