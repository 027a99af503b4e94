// The audit hook of the HTTP pipeline, writing to a real Azurite.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import functionsLibrary from "@azure/functions";
import type { HttpHandler } from "@azure/functions";
import { AuditTable } from "../../../src/adapters/tables/auditTable.js";
import { resolveAuditQuery, type AuditLog } from "../../../src/domain/policy/auditLog.js";
import { authorizeOwnedResource, resourceNotFound } from "../../../src/domain/policy/authorization.js";
import type { SandboxError } from "../../../src/domain/sandboxError.js";
import { noteFailure, notePrincipal, withAudit } from "../../../src/http/auditRequest.js";
import type { RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../support/testAzurite.js";
import { principal } from "../../support/policyFixtures.js";

const { HttpRequest, InvocationContext } = functionsLibrary;

describe("withAudit", () => {
  let azurite: RunningAzurite;
  let audit: AuditTable;
  const logged: string[] = [];
  const invocation = () =>
    new InvocationContext({
      functionName: "t",
      invocationId: "i",
      logHandler: (_level, ...args) => logged.push(args.map(String).join(" ")),
    });
  const request = (method: string, path: string, headers: Record<string, string> = {}) =>
    new HttpRequest({ method, url: `http://127.0.0.1:7071${path}?x=1`, headers });
  const all = async () => (await audit.list(resolveAuditQuery({ top: 1000 }, new Date(Date.now() + 1000)))).records;

  before(async () => {
    azurite = await startTestAzurite();
    audit = new AuditTable(
      TableClient.fromConnectionString(azurite.connectionString, "auditrequests", { allowInsecureConnection: true }),
    );
  });
  after(async () => {
    await azurite?.stop();
  });

  test("an allowed mutating request is recorded with principal, team, outcome and the operation it started", async () => {
    const caller = principal("alpha", ["Sandbox.Submitter"], { appId: "app-1", name: "portal" });
    const inner: HttpHandler = async (req) => {
      notePrincipal(req, caller);
      return {
        status: 202,
        headers: {
          "x-ms-request-id": "req-1",
          "Operation-Location": "/api/v1/operations/op_123",
          "content-type": "application/json",
        },
        body: "{}",
      };
    };
    const response = await withAudit(
      "submitJob",
      inner,
      () => audit,
    )(
      request("POST", "/api/v1/subscriptions/s/jobs", {
        "x-ms-client-request-id": "cli-1",
        authorization: "Bearer abc.def.ghi",
      }),
      invocation(),
    );
    assert.equal((response as { status: number }).status, 202);
    const [row] = (await all()).filter((r) => r.requestId === "req-1");
    assert.ok(row);
    assert.deepEqual(
      { ...row, id: "", time: "" },
      {
        id: "",
        time: "",
        principalId: caller.id,
        principalName: "portal",
        appId: "app-1",
        team: "alpha",
        action: "submitJob",
        method: "POST",
        target: "/api/v1/subscriptions/s/jobs",
        status: 202,
        errorCode: null,
        requestId: "req-1",
        clientRequestId: "cli-1",
        operationId: "op_123",
        source: null,
        count: 1,
      },
    );
  });

  test("a scope-check 404 on a read is recorded; an ordinary 404 and a plain 200 read are not", async () => {
    const failing =
      (error: SandboxError, requestId: string): HttpHandler =>
      async (req) => {
        notePrincipal(req, principal("alpha", ["Sandbox.Reader"]));
        noteFailure(req, error);
        return { status: 404, headers: { "x-ms-request-id": requestId, "x-ms-error-code": "NotFound" } };
      };
    let denial: SandboxError | undefined;
    try {
      authorizeOwnedResource(principal("alpha", ["Sandbox.Reader"]), "beta", resourceNotFound("job", "j1"));
    } catch (error) {
      denial = error as SandboxError;
    }
    await withAudit(
      "getJob",
      failing(denial!, "req-denied"),
      () => audit,
    )(request("GET", "/api/v1/x/jobs/j1"), invocation());
    await withAudit(
      "getJob",
      failing(resourceNotFound("job", "j2"), "req-missing"),
      () => audit,
    )(request("GET", "/api/v1/x/jobs/j2"), invocation());
    await withAudit(
      "whoami",
      async () => ({ status: 200, headers: { "x-ms-request-id": "req-read" } }),
      () => audit,
    )(request("GET", "/api/v1/whoami"), invocation());
    const ids = (await all()).map((r) => r.requestId);
    assert.ok(ids.includes("req-denied"));
    assert.ok(!ids.includes("req-missing"));
    assert.ok(!ids.includes("req-read"));
    const row = (await all()).find((r) => r.requestId === "req-denied")!;
    assert.equal(row.errorCode, "NotFound");
    assert.equal(row.status, 404);
  });

  test("401 and 403 reads are recorded; an unauthenticated caller has null identity", async () => {
    await withAudit(
      "whoami",
      async () => ({ status: 401, headers: { "x-ms-request-id": "req-401", "x-ms-error-code": "Unauthorized" } }),
      () => audit,
    )(request("GET", "/api/v1/whoami"), invocation());
    const row = (await all()).find((r) => r.requestId === "req-401")!;
    assert.equal(row.principalId, null);
    assert.equal(row.team, null);
    assert.equal(row.errorCode, "Unauthorized");
  });

  test("a failed audit write is logged without details and the response is still returned", async () => {
    const broken: AuditLog = {
      append: async () => {
        throw Object.assign(new Error("PUT https://acct.table.core.windows.net/?sig=SECRET failed"), {
          name: "RestError",
          statusCode: 503,
        });
      },
      settle: async () => undefined,
      list: async () => ({ records: [], continuationToken: undefined }),
      deleteOlderThan: async () => 0,
    };
    const response = await withAudit(
      "cancelJob",
      async () => ({ status: 202, headers: { "x-ms-request-id": "r" } }),
      () => broken,
    )(request("DELETE", "/api/v1/x"), invocation());
    assert.equal((response as { status: number }).status, 202);
    assert.match(logged.join("\n"), /audit write failed for cancelJob \(RestError 503\)/);
    assert.doesNotMatch(logged.join("\n"), /SECRET|sig=/);
  });
});
