import type { Role } from "../identity/principal.js";

/**
 * What an operation needs from its caller before its handler runs.
 * - `anonymous`: no token (the document's `security: []`).
 * - `authenticated`: any valid token, no role.
 * - a {@link Role}: that role or a higher one (Admin ⊇ Operator ⊇ Submitter ⊇ Reader).
 */
export type RoleRequirement = "anonymous" | "authenticated" | Role;

/**
 * What the operation is scoped to, i.e. which resource-level check its
 * handler runs after loading the target (see `authorization.ts`):
 * - `none`: nothing team-owned (service endpoints).
 * - `subscription`: a subscription the caller's team has a scope in.
 * - `cluster`: a cluster the caller's team's scopes cover.
 * - `job`: the cluster check, then the job's owning team.
 * - `operation`: the operation's owning team.
 * - `teamList`: a list filtered to the caller's team (Admin: all teams).
 * - `admin`: global, Admin only (the role must be `Sandbox.Admin`).
 */
export type ScopeKind = "none" | "subscription" | "cluster" | "job" | "operation" | "teamList" | "admin";

/**
 * What the operation does to its scope target:
 * `read` (GET), `create` (brings a new thing into existence under a scope the
 * caller names), `change` (modifies, deletes or acts on an existing thing).
 * Denials: `read`/`change` on something outside the caller's team answer 404
 * (existence is not revealed); `create` answers 403 (the decision does not
 * depend on whether anything exists).
 */
export type ScopeAction = "read" | "create" | "change";

export interface AuthorizationRule {
  readonly role: RoleRequirement;
  readonly scope: ScopeKind;
  readonly action: ScopeAction;
}

const rule = (role: RoleRequirement, scope: ScopeKind, action: ScopeAction): AuthorizationRule =>
  Object.freeze({ role, scope, action });

/**
 * THE authorization table: one rule per OpenAPI `operationId`. A new
 * operation adds its row here; an operation without a row is denied at
 * runtime (fail closed) and fails `test/unit/domain/policy/authorizationMatrix.test.ts`.
 * Rows for routes not yet in the document follow docs/api-conventions.md's names; route
 * authors rename them to their operationIds.
 */
export const AUTHORIZATION_RULES: Readonly<Record<string, AuthorizationRule>> = Object.freeze({
  // Service
  healthz: rule("anonymous", "none", "read"),
  readyz: rule("anonymous", "none", "read"),
  getOpenApiDocument: rule("anonymous", "none", "read"),
  getApiDocs: rule("anonymous", "none", "read"),
  getApiDocsAsset: rule("anonymous", "none", "read"),
  whoami: rule("authenticated", "none", "read"),
  listAuditRecords: rule("Sandbox.Admin", "admin", "read"),

  // Operations (status monitor)
  getOperation: rule("Sandbox.Reader", "operation", "read"),
  listOperations: rule("Sandbox.Reader", "teamList", "read"),
  cancelOperation: rule("Sandbox.Submitter", "operation", "change"),

  // Sandbox feature (per subscription)
  getSandboxFeature: rule("Sandbox.Reader", "subscription", "read"),
  registerSandboxFeature: rule("Sandbox.Admin", "subscription", "change"),

  // Clusters
  createCluster: rule("Sandbox.Operator", "cluster", "create"),
  getCluster: rule("Sandbox.Reader", "cluster", "read"),
  deleteCluster: rule("Sandbox.Operator", "cluster", "change"),
  enableSandboxing: rule("Sandbox.Operator", "cluster", "change"),

  // Sandbox pools (children of a visible cluster: acting on them changes the cluster)
  putSandboxPool: rule("Sandbox.Operator", "cluster", "change"),
  getSandboxPool: rule("Sandbox.Reader", "cluster", "read"),
  listSandboxPools: rule("Sandbox.Reader", "cluster", "read"),
  deleteSandboxPool: rule("Sandbox.Operator", "cluster", "change"),

  // Jobs (submitting needs a visible cluster; the job belongs to the caller's team)
  submitJob: rule("Sandbox.Submitter", "cluster", "change"),
  getJob: rule("Sandbox.Reader", "job", "read"),
  getJobLogs: rule("Sandbox.Reader", "job", "read"),
  cancelJob: rule("Sandbox.Submitter", "job", "change"),
  listJobs: rule("Sandbox.Reader", "teamList", "read"),

  // Isolation check
  startIsolationCheck: rule("Sandbox.Submitter", "cluster", "change"),

  // Webhooks: the path names no team, every call acts on the caller's own team's subscriptions.
  listWebhooks: rule("Sandbox.Reader", "teamList", "read"),
  getWebhook: rule("Sandbox.Reader", "teamList", "read"),
  listWebhookDeliveries: rule("Sandbox.Reader", "teamList", "read"),
  putWebhook: rule("Sandbox.Operator", "teamList", "change"),
  deleteWebhook: rule("Sandbox.Operator", "teamList", "change"),
  rotateWebhookSecret: rule("Sandbox.Operator", "teamList", "change"),
  redeliverWebhookDelivery: rule("Sandbox.Operator", "teamList", "change"),
});

/** The rule for an operation, or undefined when the table has none (the caller must deny). */
export function authorizationRule(operationId: string): AuthorizationRule | undefined {
  return Object.hasOwn(AUTHORIZATION_RULES, operationId) ? AUTHORIZATION_RULES[operationId] : undefined;
}
