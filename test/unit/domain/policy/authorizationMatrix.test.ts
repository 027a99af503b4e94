// The authorization table, generated from the OpenAPI document: every
// operation × every role (and no token) × own team / other team. A new
// operation without a row in AUTHORIZATION_RULES fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROLES, type Principal, type Role } from "../../../../src/domain/identity/principal.js";
import { decideAccess, type AccessTarget } from "../../../../src/domain/policy/authorization.js";
import {
  AUTHORIZATION_RULES,
  authorizationRule,
  type AuthorizationRule,
} from "../../../../src/domain/policy/authorizationRules.js";
import { openApiOperations } from "../../../../src/http/openApiDocument.js";
import {
  ALPHA_CLUSTER,
  BETA_CLUSTER,
  SUB_ALPHA,
  SUB_BETA,
  fixturePolicy,
  principal,
} from "../../../support/policyFixtures.js";

const policy = fixturePolicy();
const RANK: Record<Role, number> = {
  "Sandbox.Reader": 1,
  "Sandbox.Submitter": 2,
  "Sandbox.Operator": 3,
  "Sandbox.Admin": 4,
};

type Caller = "no token" | "no role" | Role;
const CALLERS: readonly Caller[] = ["no token", "no role", ...ROLES];
type Relation = "own team" | "other team";
type Expected = "2xx" | 401 | 403 | 404;

/** Independent statement of the rules (docs/api-conventions.md + issue 8), not a call into the module under test. */
function expected(rule: AuthorizationRule, caller: Caller, relation: Relation): Expected {
  if (rule.role === "anonymous") return "2xx";
  if (caller === "no token") return 401;
  if (rule.role !== "authenticated" && (caller === "no role" || RANK[caller] < RANK[rule.role])) return 403;
  if (rule.scope === "none" || rule.scope === "admin" || rule.scope === "teamList") return "2xx";
  if (relation === "own team" || caller === "Sandbox.Admin") return "2xx";
  return rule.action === "create" ? 403 : 404;
}

function target(rule: AuthorizationRule, relation: Relation): AccessTarget {
  const own = relation === "own team";
  switch (rule.scope) {
    case "subscription":
      return { kind: "subscription", subscriptionId: own ? SUB_ALPHA : SUB_BETA };
    case "cluster":
      return { kind: "cluster", cluster: own ? ALPHA_CLUSTER : BETA_CLUSTER };
    case "job":
      return { kind: "job", cluster: own ? ALPHA_CLUSTER : BETA_CLUSTER, team: own ? "alpha" : "beta" };
    case "operation":
      return { kind: "operation", team: own ? "alpha" : "beta" };
    default:
      return { kind: "none" };
  }
}

function callerPrincipal(caller: Caller, bot: boolean): Principal | undefined {
  if (caller === "no token") return undefined;
  const roles = caller === "no role" ? [] : [caller];
  // A bot: client-credentials token, no display name, app id + app roles.
  return bot
    ? principal("alpha", roles, {
        name: "33333333-0000-0000-0000-000000000003",
        appId: "33333333-0000-0000-0000-000000000003",
      })
    : principal("alpha", roles);
}

function outcome(operationId: string, caller: Caller, relation: Relation, bot: boolean): Expected {
  const decision = decideAccess(
    callerPrincipal(caller, bot),
    policy,
    operationId,
    target(authorizationRule(operationId)!, relation),
  );
  if (decision.allowed) return "2xx";
  return decision.code === "Unauthorized" ? 401 : decision.code === "Forbidden" ? 403 : 404;
}

const documented = [...openApiOperations().keys()].sort();

test("every operation in openapi/openapi.json has an authorization rule", () => {
  const missing = documented.filter((id) => authorizationRule(id) === undefined);
  assert.deepEqual(
    missing,
    [],
    `add a row to AUTHORIZATION_RULES (src/domain/policy/authorizationRules.ts) for: ${missing.join(", ")}`,
  );
});

test("rules agree with the document: anonymous exactly where security is [], admin scope only for Admin", () => {
  for (const [id, entry] of openApiOperations()) {
    const rule = authorizationRule(id);
    if (!rule) continue;
    assert.equal(
      rule.role === "anonymous",
      !entry.requiresAuthentication,
      `${id}: rule role ${rule.role} vs document security`,
    );
  }
  for (const [id, rule] of Object.entries(AUTHORIZATION_RULES)) {
    if (rule.scope === "admin") assert.equal(rule.role, "Sandbox.Admin", `${id}: admin scope needs the Admin role`);
    if (rule.role === "anonymous" || rule.role === "authenticated")
      assert.equal(rule.scope, "none", `${id}: a team scope needs a role`);
  }
});

for (const operationId of [...new Set([...documented, ...Object.keys(AUTHORIZATION_RULES)])].sort()) {
  test(`decision matrix: ${operationId}${documented.includes(operationId) ? "" : " (not yet in the document)"}`, () => {
    const rule = authorizationRule(operationId);
    assert.ok(rule, `no rule for ${operationId}`);
    const rows: string[] = [];
    for (const bot of [false, true]) {
      for (const caller of CALLERS) {
        for (const relation of ["own team", "other team"] as const) {
          const want = expected(rule, caller, relation);
          const got = outcome(operationId, caller, relation, bot);
          if (got !== want) rows.push(`${bot ? "bot " : ""}${caller} × ${relation}: expected ${want}, got ${got}`);
        }
      }
    }
    assert.deepEqual(rows, []);
  });
}

test("an operation without a rule is denied (fail closed)", () => {
  const decision = decideAccess(principal("alpha", ["Sandbox.Admin"]), policy, "someNewOperation", { kind: "none" });
  assert.deepEqual(decision.allowed, false);
  assert.match(decision.allowed ? "" : decision.message, /No authorization rule covers operation "someNewOperation"/);
});

test("a role denial names the missing role", () => {
  const decision = decideAccess(principal("alpha", ["Sandbox.Reader"]), policy, "listAuditRecords", { kind: "none" });
  assert.ok(!decision.allowed);
  assert.equal(decision.code, "Forbidden");
  assert.match(decision.message, /Sandbox\.Admin role/);
});

test("team-scoped lists need a team unless Admin", () => {
  assert.ok(!decideAccess(principal(undefined, ["Sandbox.Reader"]), policy, "listJobs", { kind: "none" }).allowed);
  assert.ok(decideAccess(principal(undefined, ["Sandbox.Admin"]), policy, "listJobs", { kind: "none" }).allowed);
});
