import { SandboxError } from "../sandboxError.js";
import type { Principal, Role } from "./principal.js";

/**
 * Roles are ordered: Admin ⊇ Operator ⊇ Submitter ⊇ Reader. A caller holding
 * a higher role may do what a lower one may (a Submitter can read its jobs).
 */
const RANK: Readonly<Record<Role, number>> = {
  "Sandbox.Reader": 1,
  "Sandbox.Submitter": 2,
  "Sandbox.Operator": 3,
  "Sandbox.Admin": 4,
};

/** True when the principal holds `role` or a higher one. */
export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.some((r) => RANK[r] >= RANK[role]);
}

/**
 * @throws SandboxError `Forbidden` naming the missing role when the principal
 * holds neither `role` nor a higher one.
 */
export function requireRole(principal: Principal, role: Role): void {
  if (!hasRole(principal, role)) {
    throw new SandboxError(
      "Forbidden",
      `This action needs the ${role} role (or higher); the token has ${principal.roles.length > 0 ? principal.roles.join(", ") : "no roles"}.`,
    );
  }
}
