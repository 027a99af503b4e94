import {
  isTerminal,
  toOperationView,
  type OperationKindName,
  type OperationStatus,
} from "../domain/operations/operation.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";
import { acceptedOperation } from "./operationResults.js";

/** Handlers of the operation routes (`OperationService`). */
export function operationHandlers(services: ServicesSource<"operations">) {
  /**
   * `getOperation`: the status monitor. A due operation is advanced first
   * (concurrent readers share one ARM poll). Running operations carry
   * `Retry-After`. Other teams' operations answer 404 unless the caller is Admin.
   */
  const getOperation: OperationHandler = async ({ params, principal }) => {
    const operations = services().operations;
    const op = await operations.get(params.operationId ?? "", principal);
    const headers: Record<string, string> = {};
    if (!isTerminal(op.status)) headers["retry-after"] = String(operations.retryAfterSeconds(op));
    return { status: 200, headers, body: toOperationView(op) };
  };

  /**
   * `listOperations`: filters `status`, `kind`, `target`, `top` (1–1000,
   * default 100); paging by `nextLink` (an opaque `continuationToken` over Table
   * continuation tokens). Non-admins see their team's operations only.
   */
  const listOperations: OperationHandler = async ({ query, principal, request }) => {
    const token = typeof query.continuationToken === "string" ? query.continuationToken : undefined;
    const page = await services().operations.list(
      {
        ...(typeof query.status === "string" ? { status: query.status as OperationStatus } : {}),
        ...(typeof query.kind === "string" ? { kind: query.kind as OperationKindName } : {}),
        ...(typeof query.target === "string" ? { target: query.target } : {}),
        top: typeof query.top === "number" ? query.top : 100,
        ...(token !== undefined ? { continuationToken: token } : {}),
      },
      principal,
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
   * `cancelOperation`: answers 200 with the operation once `Canceled`, 202
   * while the current step finishes. Terminal operations → 409 `Conflict`.
   */
  const cancelOperation: OperationHandler = async ({ params, principal }) => {
    const operations = services().operations;
    const op = await operations.cancel(params.operationId ?? "", principal);
    if (op.status === "Canceled") return { status: 200, body: toOperationView(op) };
    return acceptedOperation(op, operations);
  };

  return { getOperation, listOperations, cancelOperation };
}
