import { resolveAuditQuery } from "../domain/policy/auditLog.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";

/** Handlers of the audit routes. */
export function auditHandlers(services: ServicesSource<"auditLog">) {
  /**
   * `listAuditRecords` (Admin; the role check ran before): audit records
   * newest first, `{ value, nextLink? }`; `nextLink` repeats the query with an
   * opaque `continuationToken`.
   */
  const listAuditRecords: OperationHandler = async ({ query, request }) => {
    const str = (name: string): string | undefined => (typeof query[name] === "string" ? query[name] : undefined);
    const resolved = resolveAuditQuery(
      {
        from: str("from"),
        to: str("to"),
        team: str("team"),
        action: str("action"),
        top: typeof query.top === "number" ? query.top : undefined,
        continuationToken: str("continuationToken"),
      },
      new Date(),
    );
    const page = await services().auditLog.list(resolved);
    const body: { value: unknown[]; nextLink?: string } = { value: [...page.records] };
    if (page.continuationToken !== undefined) {
      const next = new URL(request.url);
      // Pin the window, so later pages do not drift with "now".
      next.searchParams.set("from", resolved.from.toISOString());
      next.searchParams.set("to", resolved.to.toISOString());
      next.searchParams.set("continuationToken", page.continuationToken);
      body.nextLink = next.toString();
    }
    return { body };
  };

  return { listAuditRecords };
}
