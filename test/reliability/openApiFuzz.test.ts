// Property-based fuzzing generated from openapi/openapi.json (fast-check):
// FUZZ_RUNS (default 10 000) requests across every operation, valid and
// broken, with valid and invalid tokens, one at a time against the local
// stack (the host over loopback with keep-alive; simulated Azure in this
// process, timers off, so upstream calls are the request's own but for work
// an earlier request left running, such as a queued operation woken when the
// one before it on its cluster ended).
// Properties, per request:
//  - never a 5xx;
//  - every 4xx carries `{error:{code,message}}` and `x-ms-error-code` = code;
//  - a request the document forbids (bad token, wrong method, a parameter or
//    body the schema rejects) gets a 4xx and causes no ARM and no Kubernetes
//    request at all (both emulators' request logs; ARM requests are the
//    request's by their correlation id);
//  - no 4xx answer comes after an ARM or Kubernetes write (nothing partial),
//    unless the cluster the request names was deleted while it ran: a valid
//    deleteCluster earlier in the run finishes in simulated time, and writes to
//    a cluster that is gone leave nothing behind.
// FUZZ_SEED replays a run; the seed is printed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { SimulatedCloud, type SimulatedCloudEvent } from "../../src/emulators/simulatedCloud.js";
import { LocalTokenIssuer } from "../../src/localhost/localTokenIssuer.js";
import { openApiOperations } from "../../src/http/openApiDocument.js";
import { startSandboxStack, type SandboxStack } from "../support/sandboxStack.js";
import { apiRequests, type FuzzRequest } from "./support/openApiArbitraries.js";
import { tally, upstreamMark, upstreamSince } from "./support/upstreamCalls.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const RG = "rg-fuzz";

describe("OpenAPI fuzzing through the local stack", () => {
  let stack: SandboxStack;
  let otherKeyDir: string;
  const tokens = new Map<string, string | undefined>();
  const fixtures: Record<string, string[]> = {};

  before(async () => {
    stack = await startSandboxStack({ scale: 0.01, env: { LOCALHOST_DISABLE_TIMERS: "true", LOG_LEVEL: "warn" } });
    await stack.createCluster(RG, "fuzz1");
    const host = stack.host;
    const mint = (team: string | undefined, roles: string[]) => host.token({ ...(team ? { team } : {}), roles });
    tokens.set("reader-alpha", await mint("alpha", ["Sandbox.Reader"]));
    tokens.set("submitter-alpha", await mint("alpha", ["Sandbox.Submitter"]));
    tokens.set("operator-alpha", await mint("alpha", ["Sandbox.Operator"]));
    tokens.set("operator-beta", await mint("beta", ["Sandbox.Operator"]));
    tokens.set("admin", await mint(undefined, ["Sandbox.Admin"]));
    tokens.set("no-role", await mint("alpha", []));
    const good = tokens.get("operator-alpha")!;
    otherKeyDir = mkdtempSync(join(tmpdir(), "fuzz-other-issuer-"));
    const stranger = await LocalTokenIssuer.open(otherKeyDir);
    const [header, payload, signature] = good.split(".") as [string, string, string];
    tokens.set("none", undefined);
    tokens.set("garbage", "not-a-jwt");
    tokens.set("expired", await host.token({ team: "alpha", roles: ["Sandbox.Admin"], expiresInSeconds: -3600 }));
    tokens.set(
      "wrong-audience",
      await host.token({ team: "alpha", roles: ["Sandbox.Admin"], audience: "api://someone-else" }),
    );
    tokens.set("other-key", await stranger.mint({ team: "alpha", roles: ["Sandbox.Admin"] }));
    tokens.set(
      "alg-none",
      `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`,
    );
    tokens.set(
      "tampered",
      `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`,
    );
    tokens.set("basic-scheme", "Basic dXNlcjpwYXNz");

    // Real objects for valid requests to reach: an operation, a job.
    const cluster = stack.clusterPath(RG, "fuzz1");
    const op = await stack.call(
      "PUT",
      `/subscriptions/${stack.subscriptionId}/resourceGroups/${RG}/clusters/fuzz2`,
      good,
      { location: "eastus" },
    );
    // An unexpected answer here says why: the host's own error lines (it logs a 500's cause, never returns it).
    const hostErrors = () =>
      host
        .output()
        .split("\n")
        .filter((l) => /unhandled error|"level":"error"/.test(l))
        .join("\n");
    assert.equal(op.status, 202, `${await op.clone().text()}\n${hostErrors()}`);
    const job = await stack.call("POST", `${cluster}/jobs`, good, {
      image: IMAGE,
      name: "fuzz-job",
      command: ["uname", "-r"],
    });
    assert.equal(job.status, 201, `${await job.clone().text()}\n${hostErrors()}`);
    Object.assign(fixtures, {
      subscriptionId: [stack.subscriptionId],
      resourceGroup: [RG],
      clusterName: ["fuzz1", "fuzz2"],
      poolName: ["kata", "sandbox"],
      jobName: ["fuzz-job"],
      operationId: [((await op.json()) as { id: string }).id],
      location: ["eastus"],
      vmSize: ["Standard_D4s_v3", "Standard_D2s_v3", "Standard_B2s"],
      nodeVmSize: ["Standard_D4s_v3"],
      image: [IMAGE],
      kubernetesVersion: ["1.30", "1.20"],
      osSku: ["AzureLinux", "Ubuntu"],
      cluster: [`${RG}/fuzz1`, "fuzz1"],
    });
  });
  after(async () => {
    await stack?.close();
    if (otherKeyDir) rmSync(otherKeyDir, { recursive: true, force: true });
  });

  test(`${RUNS} generated requests: no 5xx, error bodies on every 4xx, no upstream call for invalid input`, async () => {
    const valid = ["reader-alpha", "submitter-alpha", "operator-alpha", "operator-beta", "admin", "no-role"];
    const invalid = [
      "none",
      "garbage",
      "expired",
      "wrong-audience",
      "other-key",
      "alg-none",
      "tampered",
      "basic-scheme",
    ];
    const perOperation = new Map<string, number>();
    let invalidCases = 0;
    let upstreamReached = 0;
    let deletedMidRequest = 0;
    // Clusters simulated Azure deleted while the request in flight ran (an earlier deleteCluster finishing).
    const deletedDuring = new Set<string>();
    const onCloudChange = (e: SimulatedCloudEvent): void => {
      if (e.type === "clusterDeleted") deletedDuring.add(e.clusterKey);
    };
    stack.azure.cloud.on("change", onCloudChange);
    const clusterKeyOf = (url: string): string | undefined => {
      const m = /^\/subscriptions\/([^/?]+)\/resourceGroups\/([^/?]+)\/clusters\/([^/?]+)/i.exec(url);
      return m
        ? SimulatedCloud.clusterKey(...(m.slice(1).map(decodeURIComponent) as [string, string, string]))
        : undefined;
    };
    const statuses = new Map<number, number>();
    const arm = stack.azure.arm.requestLog;
    const kubernetes = stack.azure.kubernetes.requestLog;
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays), ${RUNS} runs`);

    const check = async (r: FuzzRequest): Promise<void> => {
      const token = tokens.get(r.token);
      const headers: Record<string, string> = { ...r.headers };
      if (token !== undefined) headers.authorization = r.token === "basic-scheme" ? token : `Bearer ${token}`;
      const mark = upstreamMark(arm, kubernetes);
      deletedDuring.clear();
      const withBody = r.body !== undefined && r.method !== "GET";
      const res = await fetch(`${stack.host.api}${r.url}`, {
        method: r.method,
        headers,
        ...(withBody ? { body: r.body } : {}),
      });
      const text = await res.text();
      // This request's upstream requests. ARM ones carry its x-ms-request-id as their correlation id; others in the
      // meantime are earlier requests' background work (an operation woken when the one queued before it on its
      // cluster ended). Kubernetes requests carry no id: all count, but those to another cluster than the named one.
      const clusterKey = clusterKeyOf(r.url);
      const requestId = res.headers.get("x-ms-request-id");
      const during = upstreamSince(arm, kubernetes, mark);
      const own = {
        arm: during.arm.filter((e) => e.correlationId === undefined || e.correlationId === requestId),
        kubernetes: during.kubernetes.filter((e) => {
          const target = /^\/clusters\/([^/]+)/.exec(e.path)?.[1];
          return clusterKey === undefined || target === undefined || decodeURIComponent(target) === clusterKey;
        }),
      };
      const calls = tally(own);
      perOperation.set(r.operationId, (perOperation.get(r.operationId) ?? 0) + 1);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (r.invalid) invalidCases++;
      if (calls.arm + calls.kubernetes > 0) upstreamReached++;
      const what = `${r.method} ${r.url} (${r.operationId}, token ${r.token}${r.invalid ? `, invalid: ${r.invalid}` : ""}) → ${res.status} ${text.slice(0, 300)}`;
      assert.ok(res.status < 500, `5xx: ${what}`);
      if (res.status >= 400) {
        let body: { error?: { code?: unknown; message?: unknown } } | undefined;
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          assert.fail(`4xx without a JSON error body: ${what}`);
        }
        assert.ok(
          typeof body?.error?.code === "string" && typeof body.error.message === "string",
          `4xx without {error:{code,message}}: ${what}`,
        );
        assert.equal(
          res.headers.get("x-ms-error-code"),
          body.error.code,
          `x-ms-error-code differs from error.code: ${what}`,
        );
        const clusterVanished = clusterKey !== undefined && deletedDuring.has(clusterKey);
        if (clusterVanished) deletedMidRequest++;
        if (calls.armWrites + calls.kubernetesWrites > 0 && !clusterVanished) {
          // Which upstream requests the case made, with their answers: what a failure needs to be understood.
          const made = [...own.arm, ...own.kubernetes].map((e) => `${e.method} ${e.path} ${e.status}`);
          assert.fail(`4xx after an upstream write ${JSON.stringify(calls)}: ${what}\nupstream: ${made.join("; ")}`);
        }
      }
      if (r.invalid) {
        assert.ok(res.status >= 400 && res.status < 500, `invalid request not refused: ${what}`);
        assert.deepEqual(
          calls,
          { arm: 0, armWrites: 0, kubernetes: 0, kubernetesWrites: 0 },
          `invalid request reached upstream: ${what}`,
        );
      }
    };

    try {
      await fc.assert(fc.asyncProperty(apiRequests(fixtures, { valid, invalid }), check), {
        numRuns: RUNS,
        seed: SEED,
        verbose: 1,
        includeErrorInReport: true,
      });
    } finally {
      stack.azure.cloud.off("change", onCloudChange);
    }

    console.log(
      JSON.stringify({
        runs: RUNS,
        invalidCases,
        upstreamReached,
        deletedMidRequest,
        statuses: Object.fromEntries(statuses),
        perOperation: Object.fromEntries(perOperation),
      }),
    );
    // The generator must really spread over the document, and hit both sides.
    for (const id of openApiOperations().keys())
      assert.ok((perOperation.get(id) ?? 0) >= RUNS / 100, `${id}: only ${perOperation.get(id) ?? 0} cases`);
    assert.ok(invalidCases >= RUNS / 3, `only ${invalidCases} invalid cases`);
    assert.ok(RUNS - invalidCases >= RUNS / 5, `only ${RUNS - invalidCases} valid cases`);
    assert.ok(
      upstreamReached >= RUNS / 50,
      `only ${upstreamReached} requests reached simulated Azure: the valid cases are too shallow`,
    );
  });
});
