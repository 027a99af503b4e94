/**
 * Authorization decisions, all in one place. Two stages:
 *
 * 1. {@link authorizeOperation} — the role check from the table in
 *    `authorizationRules.ts`, run by the HTTP layer right after
 *    authentication, before any handler code.
 * 2. The resource-level helpers ({@link authorizeSubscriptionAccess},
 *    {@link authorizeClusterAccess}, {@link authorizeOwnedResource},
 *    {@link teamFilter}, {@link requireTeam}) — called by route handlers once
 *    they know the target.
 *
 * Admin sees and acts on everything. Everyone else sees only what the policy
 * grants their team: reads of (and changes to) things outside it answer 404
 * `NotFound` with the same message a missing thing gets, so existence is not
 * revealed; creating outside it answers 403 `Forbidden`.
 */
import type { Principal } from "../identity/principal.js";
import { hasRole, requireRole } from "../identity/roles.js";
import { SandboxError } from "../sandboxError.js";
import { authorizationRule, type AuthorizationRule, type ScopeAction } from "./authorizationRules.js";
import {
  scopeForCluster,
  teamPolicy,
  teamSeesSubscription,
  namespaceFor,
  type ClusterRef,
  type SandboxPolicy,
  type TeamPolicy,
} from "./policy.js";

const denials = new WeakSet<SandboxError>();

function denial(error: SandboxError): SandboxError {
  denials.add(error);
  return error;
}

/**
 * True for errors thrown by this module's checks (401/403/404 denials), so
 * the audit log records scope-check 404s but not ordinary ones.
 */
export function isAuthorizationDenial(error: unknown): boolean {
  return error instanceof SandboxError && denials.has(error);
}

function isAdmin(principal: Principal): boolean {
  return hasRole(principal, "Sandbox.Admin");
}

/**
 * The 404 a route answers for a missing subscription-scoped thing. Routes use
 * it for real misses too, so a denial and a miss are indistinguishable.
 */
export function subscriptionNotFound(subscriptionId: string): SandboxError {
  return new SandboxError("NotFound", `Subscription "${subscriptionId}" was not found.`, { target: "subscriptionId" });
}

/** The 404 for a missing cluster (used for real misses and for invisible clusters alike). */
export function clusterNotFound(cluster: ClusterRef): SandboxError {
  return new SandboxError(
    "NotFound",
    `Cluster "${cluster.clusterName}" was not found in resource group "${cluster.resourceGroup}" of subscription "${cluster.subscriptionId}".`,
    { target: "clusterName" },
  );
}

/** The 404 for a missing team-owned resource (`job "x"`, `operation "y"`), for misses and denials alike. */
export function resourceNotFound(kind: string, name: string): SandboxError {
  return new SandboxError("NotFound", `The ${kind} "${name}" was not found.`);
}

/**
 * Stage 1, the role check for an operation (no resource needed).
 * @param principal undefined when the request carried no valid token.
 * @returns the operation's rule, for the handler's resource-level check.
 * @throws SandboxError `Unauthorized` (no principal on an authenticated
 * operation), `Forbidden` naming the missing role, or `Forbidden` when the
 * table has no rule for the operation (fail closed).
 */
export function authorizeOperation(principal: Principal | undefined, operationId: string): AuthorizationRule {
  const rule = authorizationRule(operationId);
  if (!rule)
    throw denial(
      new SandboxError("Forbidden", `No authorization rule covers operation "${operationId}"; the request is denied.`),
    );
  if (rule.role === "anonymous") return rule;
  if (principal === undefined)
    throw denial(new SandboxError("Unauthorized", "This route needs an Authorization: Bearer <token> header."));
  if (rule.role === "authenticated") return rule;
  try {
    requireRole(principal, rule.role);
  } catch (error) {
    throw error instanceof SandboxError ? denial(error) : error;
  }
  return rule;
}

/**
 * Subscription-level check (e.g. the sandbox feature).
 * @throws SandboxError `NotFound` ({@link subscriptionNotFound}) when the
 * caller's team has no scope in the subscription (read/change); `Forbidden`
 * for `create`.
 */
export function authorizeSubscriptionAccess(
  principal: Principal,
  policy: SandboxPolicy,
  subscriptionId: string,
  action: ScopeAction,
): void {
  if (isAdmin(principal)) return;
  const team = teamPolicy(policy, principal.team);
  if (team && teamSeesSubscription(team, subscriptionId)) return;
  if (action === "create")
    throw denial(
      new SandboxError(
        "Forbidden",
        `${teamLabel(principal)} may not create anything in subscription "${subscriptionId}".`,
        { target: "subscriptionId" },
      ),
    );
  throw denial(subscriptionNotFound(subscriptionId));
}

/** What the caller may use on a cluster it passed the check for. */
export interface ClusterAccess {
  /** The caller's team policy; undefined for an Admin whose token names no known team. */
  readonly team: TeamPolicy | undefined;
  /** Namespace for the caller's team's jobs on this cluster; undefined without a team. */
  readonly namespace: string | undefined;
}

/**
 * Cluster-level check: the caller's team's scopes must cover the cluster
 * (subscription + resource group glob + cluster name glob). Idempotent, no I/O.
 * @throws SandboxError `NotFound` ({@link clusterNotFound}) for `read` and
 * `change` outside the team's scopes; `Forbidden` for `create` outside them.
 */
export function authorizeClusterAccess(
  principal: Principal,
  policy: SandboxPolicy,
  cluster: ClusterRef,
  action: ScopeAction,
): ClusterAccess {
  const team = teamPolicy(policy, principal.team);
  const covered = team !== undefined && scopeForCluster(team, cluster) !== undefined;
  if (covered || isAdmin(principal))
    return Object.freeze({ team, namespace: team ? namespaceFor(team, cluster) : undefined });
  if (action === "create") {
    throw denial(
      new SandboxError(
        "Forbidden",
        `${teamLabel(principal)} may not create cluster "${cluster.clusterName}" in resource group "${cluster.resourceGroup}" of subscription "${cluster.subscriptionId}": the team policy does not cover it.`,
        { target: "clusterName" },
      ),
    );
  }
  throw denial(clusterNotFound(cluster));
}

/** True when the caller may see the cluster (for filtering lists). */
export function canSeeCluster(principal: Principal, policy: SandboxPolicy, cluster: ClusterRef): boolean {
  if (isAdmin(principal)) return true;
  const team = teamPolicy(policy, principal.team);
  return team !== undefined && scopeForCluster(team, cluster) !== undefined;
}

/**
 * Ownership check for team-owned things (jobs, operations): the caller's team
 * must own it, or the caller is Admin.
 * @param resourceTeam the owning team recorded on the resource.
 * @param notFound the error a miss of this resource gets (default a generic one).
 * @throws SandboxError `NotFound` otherwise.
 */
export function authorizeOwnedResource(
  principal: Principal,
  resourceTeam: string | undefined,
  notFound: SandboxError = resourceNotFound("resource", "requested"),
): void {
  if (isAdmin(principal)) return;
  if (principal.team !== undefined && resourceTeam !== undefined && principal.team === resourceTeam) return;
  throw denial(notFound);
}

/** Which teams' things a list shows the caller. */
export type TeamFilter = { readonly allTeams: true } | { readonly allTeams: false; readonly team: string };

/**
 * The team filter of a list operation: Admin sees all teams, everyone else
 * their own team.
 * @throws SandboxError `Forbidden` when a non-Admin token names no team.
 */
export function teamFilter(principal: Principal): TeamFilter {
  if (isAdmin(principal)) return { allTeams: true };
  if (principal.team === undefined) throw denial(noTeam(principal));
  return { allTeams: false, team: principal.team };
}

/**
 * The caller's team policy, for actions that create team-owned things (jobs).
 * @throws SandboxError `Forbidden` when the token names no team, or one the policy does not define.
 */
export function requireTeam(principal: Principal, policy: SandboxPolicy): TeamPolicy {
  if (principal.team === undefined) throw denial(noTeam(principal));
  const team = teamPolicy(policy, principal.team);
  if (!team) throw denial(new SandboxError("Forbidden", `Team "${principal.team}" is not defined in the team policy.`));
  return team;
}

function noTeam(principal: Principal): SandboxError {
  if (principal.groupsOverage === true) {
    // Entra leaves `groups` out when a user is in too many (200 in JWTs) and says so with `_claim_names`/`hasgroups`.
    return new SandboxError(
      "Forbidden",
      "The token's groups claim overflowed (Entra ID sent _claim_names/hasgroups instead of the groups), so no group could map the caller to a team. " +
        "Assign the app roles to a team group and emit only those groups (groupMembershipClaims: ApplicationGroup), or add a team claim.",
    );
  }
  return new SandboxError(
    "Forbidden",
    "The token names no team (team claim, app or group mapping), so it can act on no team's resources.",
  );
}

function teamLabel(principal: Principal): string {
  if (principal.team !== undefined) return `Team "${principal.team}"`;
  return principal.groupsOverage === true
    ? "A caller without a team (its token's groups claim overflowed)"
    : "A caller without a team";
}

/** A resource-level target, for {@link decideAccess}. */
export type AccessTarget =
  | { readonly kind: "none" }
  | { readonly kind: "subscription"; readonly subscriptionId: string }
  | { readonly kind: "cluster"; readonly cluster: ClusterRef }
  | { readonly kind: "job"; readonly cluster: ClusterRef; readonly team: string }
  | { readonly kind: "operation"; readonly team: string };

export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: "Unauthorized" | "Forbidden" | "NotFound"; readonly message: string };

/**
 * The whole decision for one request, as a value: the role check, then the
 * resource-level check the operation's scope kind calls for. The HTTP layer
 * and handlers run the same functions piecewise; this composition exists so
 * the decision table can be tested without handlers.
 */
export function decideAccess(
  principal: Principal | undefined,
  policy: SandboxPolicy,
  operationId: string,
  target: AccessTarget,
): AccessDecision {
  try {
    const rule = authorizeOperation(principal, operationId);
    if (principal === undefined || rule.scope === "none" || rule.scope === "admin") return { allowed: true };
    switch (rule.scope) {
      case "teamList":
        teamFilter(principal);
        break;
      case "subscription":
        authorizeSubscriptionAccess(principal, policy, expect(target, "subscription").subscriptionId, rule.action);
        break;
      case "cluster":
        authorizeClusterAccess(principal, policy, expect(target, "cluster").cluster, rule.action);
        break;
      case "job": {
        const job = expect(target, "job");
        authorizeClusterAccess(principal, policy, job.cluster, "read");
        authorizeOwnedResource(principal, job.team);
        break;
      }
      case "operation":
        authorizeOwnedResource(principal, expect(target, "operation").team);
        break;
    }
    return { allowed: true };
  } catch (error) {
    if (
      error instanceof SandboxError &&
      (error.code === "Unauthorized" || error.code === "Forbidden" || error.code === "NotFound")
    ) {
      return { allowed: false, code: error.code, message: error.message };
    }
    throw error;
  }
}

function expect<K extends AccessTarget["kind"]>(target: AccessTarget, kind: K): Extract<AccessTarget, { kind: K }> {
  if (target.kind !== kind) throw new Error(`decideAccess: the operation needs a ${kind} target, got ${target.kind}`);
  return target as Extract<AccessTarget, { kind: K }>;
}
