import { services } from "../composition.js";
import { isTerminal, toOperationView, type OperationKindName, type OperationRecord, type OperationStatus } from "../domain/operations/operation.js";
import { authorizeOwnedResource, resourceNotFound, teamFilter } from "../domain/policy/authorization.js";
import type { ClusterRef } from "../domain/operations/armOperations.js";
import type { Principal } from "../domain/identity/principal.js";
import { clusterSerialKey } from "../domain/sandbox/clusterSerialKey.js";
import type { OperationHandler, OperationResult } from "./httpOperation.js";

/** `Operation-Location` of an operation (API.md: a path under /api/v1). */
export function operationLocation(id: string): string {
  return `/api/v1/operations/${id}`;
}

/**
 * The 202 answer of a long-running request: `Operation-Location`,
 * `Retry-After` (seconds until the operation's next poll, 1–60) and the
 * operation as body.
 */
export function acceptedOperation(op: OperationRecord): OperationResult {
  return {
    status: 202,
    headers: { "operation-location": operationLocation(op.id), "retry-after": String(services().operations.retryAfterSeconds(op)) },
    body: toOperationView(op),
  };
}

/**
 * Submits an operation on a cluster — queued behind our other operations on
 * that cluster (its serial key) — on behalf of the caller, and answers 202 as
 * {@link acceptedOperation} does.
 */
export async function submitClusterOperation(
  kind: OperationKindName,
  cluster: ClusterRef,
  target: string,
  input: object,
  caller: { principal: Principal; requestId: string },
): Promise<OperationResult> {
  const op = await services().operations.submit({
    kind,
    target,
    subscriptionId: cluster.subscriptionId,
    serialKey: clusterSerialKey(cluster),
    input: input as Record<string, unknown>,
    createdBy: caller.principal.id,
    team: caller.principal.team,
    correlationId: caller.requestId,
  });
  return acceptedOperation(op);
}

function visibleOperation(op: OperationRecord | undefined, id: string, principal: Parameters<typeof authorizeOwnedResource>[0]): OperationRecord {
  const notFound = resourceNotFound("operation", id);
  if (!op) throw notFound;
  authorizeOwnedResource(principal, op.team, notFound);
  return op;
}

/**
 * `getOperation`: the status monitor. A due operation is advanced first
 * (concurrent readers share one ARM poll). Running operations carry
 * `Retry-After`. Other teams' operations answer 404 unless the caller is Admin.
 */
export const getOperation: OperationHandler = async ({ params, principal }) => {
  const id = params.operationId ?? "";
  const engine = services().operations;
  const peek = visibleOperation(await engine.get(id), id, principal);
  const op = isTerminal(peek.status) ? peek : ((await engine.get(id, { advanceIfDue: true })) ?? peek);
  const headers: Record<string, string> = {};
  if (!isTerminal(op.status)) headers["retry-after"] = String(engine.retryAfterSeconds(op));
  return { status: 200, headers, body: toOperationView(op) };
};

/**
 * `listOperations`: filters `status`, `kind`, `target`, `top` (1–1000,
 * default 100); paging by `nextLink` (an opaque `continuationToken` over Table
 * continuation tokens). Non-admins see their team's operations only.
 */
export const listOperations: OperationHandler = async ({ query, principal, request }) => {
  const scope = teamFilter(principal);
  const top = typeof query.top === "number" ? query.top : 100;
  const token = typeof query.continuationToken === "string" ? query.continuationToken : undefined;
  const page = await services().operations.list(
    {
      ...(typeof query.status === "string" ? { status: query.status as OperationStatus } : {}),
      ...(typeof query.kind === "string" ? { kind: query.kind as OperationKindName } : {}),
      ...(typeof query.target === "string" ? { target: query.target } : {}),
      ...(scope.allTeams ? {} : { team: scope.team }),
    },
    top,
    token,
  );
  const body: { value: unknown[]; nextLink?: string } = { value: page.items.map(toOperationView) };
  if (page.continuationToken) {
    const next = new URL(request.url);
    next.searchParams.set("continuationToken", page.continuationToken);
    body.nextLink = next.toString();
  }
  return { status: 200, body };
};

/**
 * `cancelOperation`: agent-pool operations are aborted at ARM (AKS
 * operation-abort); others stop after their current step. Answers 200 with
 * the operation once `Canceled`, 202 while the current step finishes.
 * Terminal operations → 409 `Conflict`.
 */
export const cancelOperation: OperationHandler = async ({ params, principal }) => {
  const id = params.operationId ?? "";
  const engine = services().operations;
  visibleOperation(await engine.get(id), id, principal);
  const op = await engine.cancel(id);
  if (op.status === "Canceled") return { status: 200, body: toOperationView(op) };
  return acceptedOperation(op);
};

/**
 * The `reconcileOperations` timer (every 10 s): one reconcile pass of the
 * operations engine; logs its figures when there was anything to do.
 */
export async function reconcileOperationsTimer(_timer: unknown, context: { log(message: string): void }): Promise<void> {
  const report = await services().operations.reconcile();
  if (report.active > 0 || report.purged > 0) context.log(JSON.stringify({ msg: "reconcileOperations", ...report }));
}
