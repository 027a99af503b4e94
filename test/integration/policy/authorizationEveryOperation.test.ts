// test: end-to-end (every operation through a host process)
// End to end through the local stack, generated from the OpenAPI document:
// every operation × no token / no role / each role × own team / other team.
// Authorization is decided before any handler work, so the statuses below
// need no Azure state except two operations (one per team) to read.
// Expected statuses are stated independently of the module under test
// (docs/api-conventions.md + issue 8), as in test/unit/domain/policy/authorizationMatrix.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROLES, type Role } from "../../../src/domain/identity/principal.js";
import { authorizationRule, type AuthorizationRule } from "../../../src/domain/policy/authorizationRules.js";
import { openApiOperations } from "../../../src/http/openApiDocument.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";
import { ALPHA_CLUSTER, BETA_CLUSTER, FIXTURE_POLICY_DOCUMENT } from "../../support/policyFixtures.js";
import type { ClusterRef } from "../../../src/domain/policy/policy.js";

const RANK: Record<Role, number> = {
  "Sandbox.Reader": 1,
  "Sandbox.Submitter": 2,
  "Sandbox.Operator": 3,
  "Sandbox.Admin": 4,
};
type Caller = "no token" | "no role" | Role;
type Relation = "own team" | "other team";
/** "allowed" = authorization lets it through (the handler may still answer 404 for a missing resource). */
type Expected = "allowed" | 401 | 403 | 404;

function expected(rule: AuthorizationRule, caller: Caller, relation: Relation): Expected {
  if (rule.role === "anonymous") return "allowed";
  if (caller === "no token") return 401;
  if (rule.role !== "authenticated" && (caller === "no role" || RANK[caller] < RANK[rule.role])) return 403;
  if (rule.scope === "none" || rule.scope === "admin" || rule.scope === "teamList") return "allowed";
  if (relation === "own team" || caller === "Sandbox.Admin") return "allowed";
  return rule.action === "create" ? 403 : 404;
}

const BODIES: Record<string, unknown> = {
  createCluster: { location: "eastus" },
  putSandboxPool: { vmSize: "Standard_D4s_v3", nodeCount: 1 },
  submitJob: { image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11", command: ["uname", "-r"] },
};
// Creates stay dry so the matrix does not start Azure work.
const QUERIES: Record<string, string> = { createCluster: "?dryRun=true", putSandboxPool: "?dryRun=true" };

describe("authorization of every operation through the local stack", () => {
  let host: AppHost;
  let dir: string;
  const operationOf: Partial<Record<"alpha" | "beta", string>> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "authz-policy-"));
    const policyFile = join(dir, "policy.json");
    writeFileSync(policyFile, JSON.stringify(FIXTURE_POLICY_DOCUMENT));
    host = await startAppHost({
      env: { SANDBOX_POLICY_FILE: policyFile, SIM_TIME_SCALE: "0.01", SANDBOX_FLAVOR: "ga" },
    });
    // One operation per team, created through the API, for the operation-scoped routes.
    for (const [team, cluster] of [
      ["alpha", ALPHA_CLUSTER],
      ["beta", BETA_CLUSTER],
    ] as const) {
      const token = await host.token({ team, roles: ["Sandbox.Operator"] });
      const res = await fetch(`${host.api}${clusterPath(cluster)}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ location: "eastus" }),
      });
      const body = (await res.json()) as { id?: string };
      assert.equal(res.status, 202, `${team}: ${JSON.stringify(body)}`);
      operationOf[team] = body.id;
    }
  });
  after(async () => {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function clusterPath(c: ClusterRef): string {
    return `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/clusters/${c.clusterName}`;
  }

  function pathFor(template: string, relation: Relation): string {
    const cluster = relation === "own team" ? ALPHA_CLUSTER : BETA_CLUSTER;
    const values: Record<string, string> = {
      subscriptionId: cluster.subscriptionId,
      resourceGroup: cluster.resourceGroup,
      clusterName: cluster.clusterName,
      poolName: "kata",
      jobName: "job1",
      webhookName: "hook1",
      deliveryId: "0001764547200000-op_x.succeeded",
      asset: "scalar-standalone.js",
      operationId: (relation === "own team" ? operationOf.alpha : operationOf.beta)!,
    };
    return template.replace(/^\/v1/, "").replace(/\{([^}]+)\}/g, (_m, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`no sample value for path parameter ${name}`);
      return value;
    });
  }

  test("generated: every operation answers as its rule says", { timeout: 240_000 }, async () => {
    const tokens = new Map<string, string>();
    const tokenFor = async (caller: Caller): Promise<string | undefined> => {
      if (caller === "no token") return undefined;
      let token = tokens.get(caller);
      if (!token) {
        token = await host.token({ team: "alpha", roles: caller === "no role" ? [] : [caller] });
        tokens.set(caller, token);
      }
      return token;
    };
    const failures: string[] = [];
    let checked = 0;
    const operations = [...openApiOperations().values()].sort(
      (a, b) => (a.method === "get" ? -1 : 1) - (b.method === "get" ? -1 : 1),
    );
    for (const op of operations) {
      const rule = authorizationRule(op.operationId);
      assert.ok(rule, `operation ${op.operationId} has no authorization rule`);
      for (const relation of ["own team", "other team"] as const) {
        for (const caller of ["no token", "no role", ...ROLES] as const) {
          const want = expected(rule, caller, relation);
          const token = await tokenFor(caller);
          const body = BODIES[op.operationId];
          const res = await fetch(`${host.api}${pathFor(op.path, relation)}${QUERIES[op.operationId] ?? ""}`, {
            method: op.method.toUpperCase(),
            headers: {
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...(body ? { "content-type": "application/json" } : {}),
            },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          const text = await res.text();
          checked += 1;
          const label = `${op.operationId} × ${caller} × ${relation}`;
          if (want === "allowed") {
            if (res.status === 401 || res.status === 403 || res.status >= 500)
              failures.push(`${label}: expected to pass authorization, got ${res.status} ${text.slice(0, 200)}`);
          } else if (res.status !== want) {
            failures.push(`${label}: expected ${want}, got ${res.status} ${text.slice(0, 200)}`);
          } else if (want === 401) {
            if (!/^Bearer/.test(res.headers.get("www-authenticate") ?? ""))
              failures.push(`${label}: 401 without WWW-Authenticate`);
          }
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(checked >= openApiOperations().size * 12);
  });
});
