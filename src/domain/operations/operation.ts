import { randomBytes } from "node:crypto";

/** Operation kinds of the API (docs/api-conventions.md, Operation). */
export const OPERATION_KINDS = [
  "RegisterSandboxFeature",
  "CreateCluster",
  "DeleteCluster",
  "EnableSandboxing",
  "CreateSandboxPool",
  "DeleteSandboxPool",
  "IsolationCheck",
] as const;
export type OperationKindName = (typeof OPERATION_KINDS)[number];

/** Status monitor states (Microsoft REST API guidelines). */
export const OPERATION_STATUSES = ["NotStarted", "Running", "Succeeded", "Failed", "Canceled"] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export type StepStatus = "NotStarted" | "Running" | "Succeeded" | "Failed" | "Canceled";

/** `{code, message, target?, details?}` as the API shows it. Never carries secrets. */
export interface OperationError {
  code: string;
  message: string;
  target?: string;
  details?: { code: string; message: string; target?: string }[];
}

/** One named step of an operation, as shown to callers. */
export interface OperationStep {
  name: string;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  /** What the step is doing or waiting for (e.g. "Waiting for op_… on the cluster"). */
  message?: string;
}

/** A transient claim on a row: the instance advancing it, until a wall-clock time (epoch ms). */
export interface OperationClaim {
  by: string;
  until: number;
}

/**
 * An operation as stored: the status monitor plus the plain-data state the
 * engine needs to resume it anywhere. Times are wall-clock epoch ms.
 * No field may hold a secret (tokens, kubeconfigs, keys).
 */
export interface OperationRecord {
  id: string;
  kind: OperationKindName;
  /** API path of the resource, e.g. `/subscriptions/…/clusters/c1/sandbox-pools/p1`. */
  target: string;
  subscriptionId: string;
  /** Operations with the same key run one after the other (the cluster's ARM id, lower case); undefined = no queueing. */
  serialKey: string | undefined;
  team: string | undefined;
  /** Principal id of the creator. */
  createdBy: string;
  status: OperationStatus;
  steps: OperationStep[];
  /** Index of the current step in `steps`. */
  stepIndex: number;
  /** Plain-data state of the current step (serialized poller state, counters, …). */
  stepState: Record<string, unknown>;
  /** The intended work (validated request, ARM call parameters). */
  input: Record<string, unknown>;
  /** Outputs of finished steps, keyed by the step's choice. */
  data: Record<string, unknown>;
  /** The next time the engine should look at the operation. */
  nextPollAt: number;
  /** Consecutive transient failures (reset by progress). */
  attempts: number;
  /** ARM calls issued for this operation. */
  armCalls: number;
  /** Number of committed advances (a version counter: every committed step tick adds one). */
  ticks: number;
  lastError: OperationError | undefined;
  error: OperationError | undefined;
  result: unknown;
  percentComplete: number | undefined;
  cancelRequested: boolean;
  /** True once the operation holds the serial lease of `serialKey` (released when it ends). */
  holdsLease: boolean;
  claim: OperationClaim | undefined;
  /** Request id of the creating request (sent to ARM as correlation id). */
  correlationId: string;
  createdAt: number;
  lastUpdatedAt: number;
  endedAt: number | undefined;
  /** After this wall time the operation fails with `OperationTimedOut`. */
  deadlineAt: number;
  /** The last status an event was written to the outbox for (the store keeps it; see domain/events). */
  announcedStatus?: string | undefined;
  /** W3C traceparent of the creating request: every later step tick joins that trace (span links to the runner). */
  traceparent?: string | undefined;
}

/** The API view of an operation (docs/api-conventions.md, Operation). */
export interface OperationView {
  id: string;
  kind: OperationKindName;
  status: OperationStatus;
  target: string;
  createdBy: string;
  team?: string;
  createdAt: string;
  lastUpdatedAt: string;
  percentComplete?: number;
  steps: OperationStep[];
  result?: unknown;
  error?: OperationError;
}

export function isTerminal(status: OperationStatus): boolean {
  return status === "Succeeded" || status === "Failed" || status === "Canceled";
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The shard of a subscription's operations: two Crockford characters (1024
 * values) from an FNV-1a hash of the lower-cased subscription id. Every
 * operation of a subscription lives in its shard (so a cluster's serial lease
 * and the operations queued on it can change together), and subscriptions
 * spread over the shards.
 */
export function operationShard(subscriptionId: string): string {
  let h = 0x811c9dc5;
  for (const ch of subscriptionId.toLowerCase()) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const v = h & 1023;
  return CROCKFORD[v >> 5]! + CROCKFORD[v & 31]!;
}

/** The shard an operation id names (its last two characters; see {@link newOperationId}). */
export function shardOfOperationId(id: string): string {
  return id.slice(-2);
}

/**
 * A new operation id: `op_` + a ULID (26 Crockford base-32 characters, the
 * first 10 encode the creation time in ms), so ids sort by creation time.
 * With `subscriptionId`, the last two (random) characters are its
 * {@link operationShard}: a status read finds the row with one point read.
 */
export function newOperationId(nowMs: number = Date.now(), subscriptionId?: string): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i]! % 32]!;
  if (subscriptionId !== undefined) rand = rand.slice(0, 14) + operationShard(subscriptionId);
  return `op_${time}${rand}`;
}

/** Operation ids as {@link newOperationId} makes them. */
export const OPERATION_ID_PATTERN = /^op_[0-9A-HJKMNP-TV-Z]{26}$/;

/** The API view of a record. */
export function toOperationView(op: OperationRecord): OperationView {
  const view: OperationView = {
    id: op.id,
    kind: op.kind,
    status: op.status,
    target: op.target,
    createdBy: op.createdBy,
    createdAt: new Date(op.createdAt).toISOString(),
    lastUpdatedAt: new Date(op.lastUpdatedAt).toISOString(),
    steps: op.steps.map((s) => ({ ...s })),
  };
  if (op.team !== undefined) view.team = op.team;
  const pct = op.status === "Succeeded" ? 100 : op.percentComplete;
  if (pct !== undefined) view.percentComplete = pct;
  if (op.result !== undefined && op.status === "Succeeded") view.result = op.result;
  if (op.error !== undefined && (op.status === "Failed" || op.status === "Canceled")) view.error = op.error;
  return view;
}
