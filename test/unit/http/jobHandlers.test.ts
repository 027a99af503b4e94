// The job routes' `?team=` parameter, in-process through the real pipeline (authentication, validation against the
// OpenAPI document, error mapping) with the real JobService over typed in-memory fakes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterKubernetesFactory } from "../../../src/domain/kubernetes/clusterKubernetes.js";
import type { JobRecord } from "../../../src/domain/jobs/jobRecord.js";
import { JobService } from "../../../src/domain/jobs/jobService.js";
import { httpTriggers } from "../../../src/http/httpOperation.js";
import { jobHandlers } from "../../../src/http/jobHandlers.js";
import {
  FakeTokenVerifier,
  InMemoryAuditLog,
  InMemoryRepeatabilityStore,
} from "../../support/fakes/httpPipelineFakes.js";
import { InMemoryJobStore } from "../../support/fakes/inMemoryJobStore.js";
import { callInProcess } from "../../support/inProcessHttp.js";
import { ALPHA_CLUSTER, fixturePolicy, principal } from "../../support/policyFixtures.js";

const noCluster: ClusterKubernetesFactory = {
  forCluster: () => Promise.reject(new Error("no cluster call expected: the jobs are finished")),
  forget: () => undefined,
};

function finishedJob(team: string, name: string): JobRecord {
  return {
    team,
    cluster: { ...ALPHA_CLUSTER },
    name,
    namespace: `${team}-jobs`,
    uid: `j-${team}-${name}`,
    isolation: "sandbox",
    runtimeClassName: "kata-vm-isolation",
    sandboxVm: undefined,
    image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11",
    status: "Succeeded",
    exitCode: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
    createdBy: `oid-${team}`,
    requestId: "r",
    warnings: [],
    refreshedAt: "2026-01-01T00:01:00.000Z",
    logs: undefined,
  };
}

async function setup() {
  const store = new InMemoryJobStore();
  for (const [team, name] of [
    ["alpha", "shared"],
    ["beta", "shared"],
    ["beta", "only-beta"],
  ] as const)
    await store.updateWithLogs(await store.insert(finishedJob(team, name)), `${team}'s log\n`, false);
  const jobs = new JobService({
    store,
    kubernetes: noCluster,
    slots: { reserveJobSlot: async () => undefined, releaseJobSlot: async () => true },
    policy: fixturePolicy(),
    runtimeClassName: "kata-vm-isolation",
  });
  const services = () => ({
    maxRequestBodyBytes: 1024 * 1024,
    tokenVerifier: new FakeTokenVerifier({
      "admin.token.x": principal(undefined, ["Sandbox.Admin"]),
      "alpha.token.x": principal("alpha", ["Sandbox.Submitter"]),
    }),
    repeatability: new InMemoryRepeatabilityStore(),
    auditLog: new InMemoryAuditLog(),
    jobs,
  });
  const handlers = jobHandlers(services);
  const trigger = httpTriggers(services);
  const routes = {
    getJob: trigger("getJob", handlers.getJob),
    cancelJob: trigger("cancelJob", handlers.cancelJob),
    getJobLogs: trigger("getJobLogs", handlers.getJobLogs),
  };
  const call = (operation: keyof typeof routes, job: string, token: string, team?: string) => {
    const base = `/subscriptions/${ALPHA_CLUSTER.subscriptionId}/resourceGroups/${ALPHA_CLUSTER.resourceGroup}/clusters/${ALPHA_CLUSTER.clusterName}/jobs/${job}`;
    return callInProcess(routes[operation], {
      method: operation === "cancelJob" ? "DELETE" : "GET",
      path: `${base}${operation === "getJobLogs" ? "/logs" : ""}${team === undefined ? "" : `?team=${team}`}`,
      params: { ...ALPHA_CLUSTER, jobName: job },
      headers: { authorization: `Bearer ${token}.token.x` },
    });
  };
  return { call };
}

describe("job routes: which team's job (?team=)", () => {
  test("an Admin naming a job that exists in two teams without ?team= gets 409 naming the teams, on every job route", async () => {
    const { call } = await setup();
    for (const operation of ["getJob", "getJobLogs", "cancelJob"] as const) {
      const res = await call(operation, "shared", "admin");
      assert.equal(res.status, 409, `${operation}: ${res.text}`);
      assert.equal(res.headers["x-ms-error-code"], "Conflict");
      const error = res.json<{ error: { message: string; target: string } }>().error;
      assert.match(error.message, /exists in teams alpha, beta.*\?team=/);
      assert.equal(error.target, "query.team");
    }
  });

  test("with ?team= an Admin gets exactly that team's job; a name in one team needs no ?team=", async () => {
    const { call } = await setup();
    const beta = await call("getJob", "shared", "admin", "beta");
    assert.equal(beta.status, 200, beta.text);
    assert.equal(beta.json<{ team: string }>().team, "beta");
    const alpha = await call("getJob", "shared", "admin", "alpha");
    assert.equal(alpha.json<{ team: string }>().team, "alpha");
    assert.equal((await call("getJobLogs", "shared", "admin", "beta")).text, "beta's log\n");
    assert.equal((await call("cancelJob", "shared", "admin", "beta")).status, 200);
    const single = await call("getJob", "only-beta", "admin");
    assert.equal(single.json<{ team: string }>().team, "beta");
    assert.equal((await call("getJob", "shared", "admin", "gamma")).status, 404);
  });

  test("a team member sees only their team's job: ?team= of another team is 404, never that team's job", async () => {
    const { call } = await setup();
    const own = await call("getJob", "shared", "alpha");
    assert.equal(own.json<{ team: string }>().team, "alpha");
    assert.equal((await call("getJob", "shared", "alpha", "alpha")).status, 200);
    const other = await call("getJob", "shared", "alpha", "beta");
    assert.equal(other.status, 404, other.text);
    assert.equal((await call("getJob", "only-beta", "alpha")).status, 404);
    assert.equal((await call("cancelJob", "only-beta", "alpha", "beta")).status, 404);
  });
});
