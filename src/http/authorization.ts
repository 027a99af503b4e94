import type { HttpRequest } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import { authorizeOperation } from "../domain/policy/authorization.js";
import { notePrincipal } from "./auditRequest.js";

/**
 * The role-level authorization step of every operation, run by
 * `httpOperationHandler` right after authentication: notes the caller for
 * the audit record, then applies the operation's row of the authorization
 * table (`src/domain/policy/authorizationRules.ts`).
 * @throws SandboxError `Forbidden` naming the missing role, or when the
 * operation has no rule (fail closed).
 */
export function authorizeRequest(request: HttpRequest, operationId: string, principal: Principal): void {
  notePrincipal(request, principal);
  authorizeOperation(principal, operationId);
}
