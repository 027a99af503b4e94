/**
 * Port: the long-running ARM calls the operations engine issues. The domain
 * owns this interface; `src/adapters/arm/` implements it with the Azure SDK.
 * Implementations throw only `SandboxError`:
 * - `UpstreamThrottled` (429, `retryAfterSeconds` set),
 * - `UpstreamUnavailable` (5xx, resets, timeouts),
 * - `UpstreamFailed` (other 4xx) with ARM's code in `details[0].code` and
 *   its message in the error message; `OperationNotAllowed` (409) is marked
 *   retryable through {@link isRetryableUpstream}.
 */

import type { ClusterRef } from "../sandbox/clusterRef.js";
export type { ClusterRef };

/** An agent pool of a cluster. */
export interface AgentPoolRef extends ClusterRef {
  readonly poolName: string;
}

/** Agent pool properties the product sends (flattened, as the SDK models them). */
export interface AgentPoolSpec {
  vmSize: string;
  count: number;
  mode: "User" | "System";
  osType: "Linux";
  osSKU: string;
  workloadRuntime: string;
  maxPods?: number;
  nodeLabels?: Record<string, string>;
  nodeTaints?: string[];
}

/** A long-running ARM write. `apiVersion` selects the AKS api-version (see the flavour module). */
export type ArmLroRequest =
  | {
      readonly kind: "agentPoolPut";
      readonly pool: AgentPoolRef;
      readonly spec: AgentPoolSpec;
      readonly apiVersion: string;
    }
  | { readonly kind: "agentPoolDelete"; readonly pool: AgentPoolRef; readonly apiVersion: string }
  | {
      readonly kind: "managedClusterPut";
      readonly cluster: ClusterRef;
      readonly body: Record<string, unknown>;
      readonly apiVersion: string;
    }
  | { readonly kind: "managedClusterDelete"; readonly cluster: ClusterRef; readonly apiVersion: string }
  /**
   * The `az aks update` re-PUT, lossless: GET the cluster as ARM's raw JSON
   * at `apiVersion`, PUT back exactly that document minus its read-only
   * properties, plus `addAgentPool` (an `agentPoolProfiles` item) when no
   * pool of that name exists. No model round trip; nothing scrubbed from
   * what is sent (the document is never stored or logged).
   */
  | {
      readonly kind: "managedClusterUpdate";
      readonly cluster: ClusterRef;
      readonly apiVersion: string;
      readonly addAgentPool?: Readonly<Record<string, unknown>>;
    };

/** What one start or poll of an LRO learned. */
export interface ArmLroProgress {
  readonly status: "running" | "succeeded" | "failed" | "canceled";
  /** Serialized SDK poller state (core-lro); undefined when the call finished synchronously. */
  readonly pollerState: string | undefined;
  /** The final resource (plain JSON) when succeeded, if ARM returns one. */
  readonly result?: unknown;
  /** ARM's error when failed or canceled. */
  readonly error?: { code: string; message: string };
  /** The service's `Retry-After` on this answer, wall milliseconds. */
  readonly retryAfterMs?: number;
  readonly percentComplete?: number;
}

/** The state of an agent pool as ARM shows it. */
export interface AgentPoolState {
  readonly provisioningState: string;
  readonly vmSize: string | undefined;
  readonly count: number | undefined;
  readonly workloadRuntime: string | undefined;
  readonly osSKU: string | undefined;
  readonly mode: string | undefined;
  /** The resource as plain JSON. */
  readonly resource: Record<string, unknown>;
}

/** Per-call context: the correlation id sent as `x-ms-correlation-request-id`. */
export interface ArmCallContext {
  readonly correlationId: string;
}

export interface ArmOperations {
  /** Issues the initial request of an LRO (PUT/DELETE; idempotent at ARM). */
  startLro(request: ArmLroRequest, call: ArmCallContext): Promise<ArmLroProgress>;
  /** Polls once from a serialized state (never loops). */
  pollLro(pollerState: string, call: ArmCallContext): Promise<ArmLroProgress>;
  /** `POST …/agentPools/{name}/abort` (AKS operation-abort). */
  abortAgentPoolOperation(pool: AgentPoolRef, apiVersion: string, call: ArmCallContext): Promise<void>;
  /** The pool, or undefined when ARM answers 404. */
  getAgentPool(pool: AgentPoolRef, apiVersion: string, call: ArmCallContext): Promise<AgentPoolState | undefined>;
}

/** ARM error codes that are worth retrying although ARM answered 4xx. */
export const RETRYABLE_ARM_CODES: readonly string[] = [
  "OperationNotAllowed",
  "Conflict",
  "TooManyRequests",
  "RetryableError",
];

/**
 * True when an error from an ARM port is transient: throttling, unavailable,
 * or a 4xx ARM code listed in {@link RETRYABLE_ARM_CODES} (AKS answers 409
 * `OperationNotAllowed` also for its own background work).
 */
export function isRetryableUpstream(error: { code: string; details: readonly { code: string }[] }): boolean {
  if (error.code === "UpstreamThrottled" || error.code === "UpstreamUnavailable") return true;
  return error.code === "UpstreamFailed" && RETRYABLE_ARM_CODES.includes(error.details[0]?.code ?? "");
}
