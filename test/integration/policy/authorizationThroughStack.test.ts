// test: end-to-end (a host process)
// End to end through the local stack (npm start): the authorization table for
// every documented route that needs neither Azure nor path parameters,
// generated from the OpenAPI document; audit rows through listAuditRecords;
// start refusing an invalid policy with every problem listed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROLES, type Role } from "../../../src/domain/identity/principal.js";
import { authorizationRule } from "../../../src/domain/policy/authorizationRules.js";
import { openApiOperations } from "../../../src/http/openApiDocument.js";
import { startAzurite, type RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";

const RANK: Record<Role, number> = {
  "Sandbox.Reader": 1,
  "Sandbox.Submitter": 2,
  "Sandbox.Operator": 3,
  "Sandbox.Admin": 4,
};

/** Documented GET operations without path parameters whose decision needs no resource. */
function standaloneOperations(): { id: string; path: string }[] {
  return [...openApiOperations().values()]
    .filter((op) => op.method === "get" && !op.parameters.some((p) => p.in === "path"))
    .filter((op) => ["none", "admin", "teamList"].includes(authorizationRule(op.operationId)?.scope ?? "none"))
    .map((op) => ({ id: op.operationId, path: op.path }));
}

describe("authorization and audit through the local stack", () => {
  let azurite: RunningAzurite;
  let host: AppHost;
  before(async () => {
    azurite = await startAzurite();
    host = await startAppHost({ env: { SANDBOX_TABLES_CONNECTION: azurite.connectionString } });
  });
  after(async () => {
    await host?.stop();
    await azurite?.stop();
  });

  const get = async (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${host.api}${path}`, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  test("generated: every standalone route × no token / each role (own team, and a bot) answers as its rule says", async () => {
    const operations = standaloneOperations();
    assert.ok(operations.some((o) => o.id === "listAuditRecords") && operations.some((o) => o.id === "whoami"));
    const failures: string[] = [];
    for (const { id, path } of operations) {
      const rule = authorizationRule(id)!;
      const url = path.replace(/^\/v1/, "");
      const callers: { label: string; token: string | undefined; rank: number }[] = [
        { label: "no token", token: undefined, rank: -1 },
      ];
      callers.push({ label: "no role", token: await host.token({ team: "alpha", roles: [] }), rank: 0 });
      for (const role of ROLES) {
        callers.push({ label: role, token: await host.token({ team: "alpha", roles: [role] }), rank: RANK[role] });
        callers.push({
          label: `bot ${role}`,
          token: await host.token({
            team: "beta",
            roles: [role],
            appId: "44444444-0000-0000-0000-000000000004",
            name: "44444444-0000-0000-0000-000000000004",
          }),
          rank: RANK[role],
        });
      }
      for (const caller of callers) {
        const want =
          rule.role === "anonymous"
            ? 200
            : caller.token === undefined
              ? 401
              : rule.role === "authenticated" || caller.rank >= RANK[rule.role]
                ? 200
                : 403;
        const res = await get(url, caller.token);
        await res.arrayBuffer();
        const got = res.status >= 200 && res.status < 300 ? 200 : res.status;
        if (got !== want) failures.push(`${id} × ${caller.label}: expected ${want}, got ${res.status}`);
        if (want === 403) assert.match(res.headers.get("x-ms-error-code") ?? "", /^Forbidden$/);
      }
    }
    assert.deepEqual(failures, []);
  });

  test("a 403 names the missing role; audit rows record allowed and denied requests; nothing can change them", async () => {
    const reader = await host.token({
      team: "alpha",
      roles: ["Sandbox.Reader"],
      name: "Rita Reader",
      oid: "aaaaaaaa-1111-1111-1111-000000000001",
    });
    const denied = await get("/audit", reader, { "x-ms-client-request-id": "denied-1" });
    assert.equal(denied.status, 403);
    const body = (await denied.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "Forbidden");
    assert.match(body.error.message, /Sandbox\.Admin role/);
    const anonymous = await get("/whoami", undefined, { "x-ms-client-request-id": "anon-1" });
    assert.equal(anonymous.status, 401);

    const admin = await host.token({ roles: ["Sandbox.Admin"], name: "Ada Admin" });
    const res = await get("/audit?top=1000", admin);
    assert.equal(res.status, 200);
    const page = (await res.json()) as { value: Record<string, unknown>[] };
    const deniedRow = page.value.find((r) => r.clientRequestId === "denied-1");
    assert.ok(deniedRow, JSON.stringify(page.value));
    assert.deepEqual(
      { ...deniedRow, id: undefined, time: undefined, requestId: undefined },
      {
        id: undefined,
        time: undefined,
        requestId: undefined,
        principalId: "aaaaaaaa-1111-1111-1111-000000000001",
        principalName: "Rita Reader",
        appId: null,
        team: "alpha",
        action: "listAuditRecords",
        method: "GET",
        target: "/api/v1/audit",
        status: 403,
        errorCode: "Forbidden",
        clientRequestId: "denied-1",
        operationId: null,
        source: null,
        count: 1,
      },
    );
    assert.equal(deniedRow.requestId, denied.headers.get("x-ms-request-id"));
    // 401s are counted per source and minute: the first of each minute is written at once (the earlier test's
    // token-less calls may have been that first one), the rest as one record once the minute is over.
    const anonRow = page.value.find((r) => r.status === 401);
    assert.ok(anonRow);
    assert.equal(anonRow.principalId, null);
    assert.equal(anonRow.count, 1);
    // The allowed Admin read itself is not audited (not mutating, not denied).
    assert.ok(!page.value.some((r) => r.action === "listAuditRecords" && r.status === 200));

    const filtered = (await (await get("/audit?team=alpha&action=listAuditRecords", admin)).json()) as {
      value: { team: string; action: string }[];
    };
    assert.ok(
      filtered.value.length >= 1 && filtered.value.every((r) => r.team === "alpha" && r.action === "listAuditRecords"),
    );

    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const change = await fetch(`${host.api}/audit`, { method, headers: { authorization: `Bearer ${admin}` } });
      assert.equal(change.status, 405, `${method} /audit`);
    }
  });

  test("audit paging: nextLink carries an opaque token and pins the window", async () => {
    const admin = await host.token({ roles: ["Sandbox.Admin"] });
    for (let i = 0; i < 3; i++) await (await get("/whoami")).arrayBuffer();
    const first = (await (await get("/audit?top=2", admin)).json()) as { value: unknown[]; nextLink?: string };
    assert.equal(first.value.length, 2);
    assert.ok(first.nextLink);
    const next = new URL(first.nextLink);
    assert.ok(next.searchParams.get("continuationToken"));
    assert.ok(next.searchParams.get("from") && next.searchParams.get("to"));
    const second = await fetch(first.nextLink, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(second.status, 200);
    const bad = await get("/audit?continuationToken=forged", admin);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("x-ms-error-code"), "InvalidRequest");
  });
});

describe("start refuses an invalid policy", () => {
  test("the local host exits listing every policy problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-policy-"));
    const file = join(dir, "policy.json");
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        teams: { alpha: { quotas: { maxConcurrentJobs: -1 }, scopes: [{ subscriptionId: "x" }] }, Beta: {} },
      }),
    );
    try {
      await assert.rejects(startAppHost({ env: { SANDBOX_POLICY_FILE: file }, timeoutMs: 60_000 }), (error: Error) => {
        assert.match(error.message, /exited with 1/);
        assert.match(error.message, /SANDBOX_POLICY_FILE: \/teams\/alpha\/quotas\/maxConcurrentJobs: must be >= 0/);
        assert.match(
          error.message,
          /SANDBOX_POLICY_FILE: \/teams\/alpha\/scopes\/0\/subscriptionId: must match pattern/,
        );
        assert.match(error.message, /SANDBOX_POLICY_FILE: \/teams: property name "Beta" is invalid/);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
