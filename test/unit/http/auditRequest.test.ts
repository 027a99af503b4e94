// The audit hook with typed in-memory fakes: 401s counted per source and minute, changes audited before they are
// made (503 and no change when the record cannot be written), through the real pipeline where it matters.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import functionsLibrary from "@azure/functions";
import type { HttpHandler } from "@azure/functions";
import { flushUnauthenticatedAudit, withAudit } from "../../../src/http/auditRequest.js";
import { httpTriggers } from "../../../src/http/httpOperation.js";
import type { OperationHandler } from "../../../src/http/operationHandler.js";
import {
  FakeTokenVerifier,
  InMemoryAuditLog,
  InMemoryRepeatabilityStore,
} from "../../support/fakes/httpPipelineFakes.js";
import { callInProcess } from "../../support/inProcessHttp.js";
import { ALPHA_CLUSTER, principal } from "../../support/policyFixtures.js";

const { HttpRequest, InvocationContext } = functionsLibrary;

const TOKEN = "alpha.submitter.token";
const JOB_PATH = `/subscriptions/${ALPHA_CLUSTER.subscriptionId}/resourceGroups/${ALPHA_CLUSTER.resourceGroup}/clusters/${ALPHA_CLUSTER.clusterName}/jobs/job-1`;

function pipeline(auditLog: InMemoryAuditLog) {
  const services = () => ({
    maxRequestBodyBytes: 1024 * 1024,
    tokenVerifier: new FakeTokenVerifier({ [TOKEN]: principal("alpha", ["Sandbox.Submitter"]) }),
    repeatability: new InMemoryRepeatabilityStore(),
    auditLog,
  });
  return httpTriggers(services);
}

describe("unauthenticated requests are counted per source and minute", () => {
  const unauthorized: HttpHandler = async () => ({
    status: 401,
    headers: { "x-ms-request-id": `req-${Math.random()}`, "x-ms-error-code": "Unauthorized" },
  });
  const logged: string[] = [];
  const invocation = () =>
    new InvocationContext({
      functionName: "t",
      invocationId: "i",
      logHandler: (_level, ...args) => logged.push(args.map(String).join(" ")),
    });
  const request = (source: string, path = "/api/v1/whoami") =>
    new HttpRequest({
      method: "GET",
      url: `http://127.0.0.1${path}`,
      headers: { "x-forwarded-for": `${source}, 10.0.0.1` },
    });

  test("a flood from one source in one minute is two records (the first at once, then the count); sources and minutes apart", async () => {
    const log = new InMemoryAuditLog();
    let now = Date.parse("2026-05-01T10:00:05.000Z");
    const whoami = withAudit("whoami", unauthorized, () => log, { now: () => now });
    const getJob = withAudit("getJob", unauthorized, () => log, { now: () => now });
    for (let i = 0; i < 500; i++) await whoami(request("203.0.113.7"), invocation());
    await getJob(request("203.0.113.7", "/api/v1/x/jobs/j"), invocation());
    await whoami(request("198.51.100.2"), invocation());
    assert.deepEqual(
      log.records.map((r) => [r.source, r.count, r.status, r.principalId]),
      [
        ["203.0.113.7", 1, 401, null],
        ["198.51.100.2", 1, 401, null],
      ],
      "the first of each source and minute is written at once",
    );
    now += 60_000; // the next minute: its first 401 writes the previous minute's counts
    await whoami(request("203.0.113.7"), invocation());
    const counted = log.records.filter((r) => r.count > 1);
    assert.equal(counted.length, 1);
    assert.equal(counted[0]!.count, 500, "499 more whoami + 1 getJob");
    assert.equal(counted[0]!.source, "203.0.113.7");
    assert.equal(counted[0]!.action, "*", "the counted requests differ in action");
    assert.equal(counted[0]!.target, "*");
    assert.equal(counted[0]!.method, "GET");
    assert.equal(log.records.length, 4, "2 records for the first minute's flood, 1 for the other source, 1 new minute");
    assert.equal(
      log.records.reduce((sum, r) => sum + r.count, 0),
      503,
    );
  });

  test("a forged X-Forwarded-For is recorded as (invalid), never verbatim", async () => {
    const log = new InMemoryAuditLog();
    await withAudit("whoami", unauthorized, () => log)(request("<script>; DROP"), invocation());
    assert.equal(log.records[0]?.source, "(invalid)");
  });

  test("through the pipeline: 200 bad-token requests from one client are at most 4 records whose counts add up", async () => {
    const log = new InMemoryAuditLog();
    const whoami = pipeline(log)("whoami", async () => ({ body: {} }));
    for (let i = 0; i < 200; i++) {
      const res = await callInProcess(whoami, {
        path: "/whoami",
        headers: { authorization: "Bearer not.a.valid-token", "x-forwarded-for": "192.0.2.44" },
      });
      assert.equal(res.status, 401);
    }
    await flushUnauthenticatedAudit(log);
    // Two per minute; the loop may straddle one minute boundary.
    assert.ok(log.records.length <= 4, `${log.records.length} records`);
    assert.equal(
      log.records.reduce((sum, r) => sum + r.count, 0),
      200,
    );
    assert.ok(log.records.every((r) => r.source === "192.0.2.44" && r.status === 401 && r.action === "whoami"));
  });
});

describe("a change is audited before it is made", () => {
  test("the record is written before the handler runs (status null), then settled with the outcome", async () => {
    const log = new InMemoryAuditLog();
    let seenByHandler: unknown[] = [];
    const handler: OperationHandler = async () => {
      seenByHandler = log.records.map((r) => ({ action: r.action, status: r.status }));
      return { status: 200, body: { ok: true } };
    };
    const res = await callInProcess(pipeline(log)("cancelJob", handler), {
      method: "DELETE",
      path: JOB_PATH,
      params: { ...ALPHA_CLUSTER, jobName: "job-1" },
      headers: { authorization: `Bearer ${TOKEN}`, "x-forwarded-for": "192.0.2.1" },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(seenByHandler, [{ action: "cancelJob", status: null }]);
    assert.equal(log.records.length, 1, "one record per request");
    assert.equal(log.records[0]!.status, 200);
    assert.equal(log.records[0]!.requestId, res.headers["x-ms-request-id"]);
    assert.equal(log.records[0]!.team, "alpha");
    assert.equal(log.records[0]!.source, "192.0.2.1");
  });

  test("when the record cannot be written the request fails 503 with Retry-After and the handler never runs", async () => {
    const log = new InMemoryAuditLog();
    log.failing = true;
    let ran = false;
    const handler: OperationHandler = async () => {
      ran = true;
      return { status: 200, body: {} };
    };
    const res = await callInProcess(pipeline(log)("cancelJob", handler), {
      method: "DELETE",
      path: JOB_PATH,
      params: { ...ALPHA_CLUSTER, jobName: "job-1" },
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers["x-ms-error-code"], "ServiceUnavailable");
    assert.ok(Number(res.headers["retry-after"]) > 0);
    assert.match(
      res.json<{ error: { message: string } }>().error.message,
      /audit log could not be written.*not performed/,
    );
    assert.equal(ran, false, "nothing changed unaudited");
  });

  test("a refused mutating request (bad body) changes nothing: audited after, its response unchanged when the audit fails", async () => {
    const log = new InMemoryAuditLog();
    let ran = false;
    const trigger = pipeline(log)("cancelJob", async () => {
      ran = true;
      return { status: 200, body: {} };
    });
    const bad = { ...ALPHA_CLUSTER, jobName: "Not_A_Job" };
    const call = () =>
      callInProcess(trigger, {
        method: "DELETE",
        path: JOB_PATH.replace("job-1", "Not_A_Job"),
        params: bad,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    assert.equal((await call()).status, 400);
    assert.deepEqual(
      log.records.map((r) => r.status),
      [400],
    );
    log.failing = true;
    assert.equal((await call()).status, 400);
    assert.equal(ran, false);
  });
});
