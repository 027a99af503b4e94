// The client's thin layer against a scripted transport (no server): retries,
// idempotency headers, tokens, operation polling, paging, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSandboxClient, SandboxApiError, unwrap } from "../../../clients/typescript/src/index.js";

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

function transport(answers: Answer[]): { fetch: (r: Request) => Promise<Response>; seen: Request[] } {
  const seen: Request[] = [];
  return {
    seen,
    fetch: async (request) => {
      seen.push(request.clone());
      const a = answers.shift();
      if (!a) throw new Error(`unexpected ${request.method} ${request.url}`);
      return new Response(a.body === undefined ? null : JSON.stringify(a.body), {
        status: a.status,
        headers: { "content-type": "application/json", ...a.headers },
      });
    },
  };
}

const ERROR = (code: string) => ({
  error: {
    code,
    message: `${code} happened`,
    target: "body.x",
    details: [{ code: "Invalid", message: "bad", target: "x" }],
  },
});

test("429/503 are retried after Retry-After with the same Repeatability-Request-ID; the answer after is returned", async () => {
  const t = transport([
    { status: 503, body: ERROR("UpstreamThrottled"), headers: { "retry-after": "0" } },
    { status: 429, body: ERROR("QuotaExceeded"), headers: { "retry-after": "0" } },
    { status: 202, body: { id: "op_1" } },
  ]);
  const client = createSandboxClient({ endpoint: "http://127.0.0.1:1/api/v1", token: "t0k", fetch: t.fetch });
  const op = await unwrap(
    client.api.PUT("/v1/subscriptions/{subscriptionId}/sandbox-feature", { params: { path: { subscriptionId: "s" } } }),
  );
  assert.equal((op as { id?: string }).id, "op_1");
  assert.equal(t.seen.length, 3);
  const ids = t.seen.map((r) => r.headers.get("repeatability-request-id"));
  assert.ok(ids[0] && ids.every((id) => id === ids[0]), "one id for the call and its retries");
  assert.ok(
    t.seen.every(
      (r) => r.headers.get("repeatability-first-sent") === t.seen[0]!.headers.get("repeatability-first-sent"),
    ),
  );
  assert.equal(t.seen[0]!.headers.get("authorization"), "Bearer t0k");
  assert.ok(t.seen[0]!.headers.get("x-ms-client-request-id"));
  assert.equal(t.seen[0]!.url, "http://127.0.0.1:1/api/v1/subscriptions/s/sandbox-feature");
});

test("retries are bounded: after maxRetries the 503 is the answer, as a typed error", async () => {
  const t = transport(
    Array.from({ length: 3 }, () => ({
      status: 503,
      body: ERROR("UpstreamUnavailable"),
      headers: { "retry-after": "0", "x-ms-request-id": "req-9" },
    })),
  );
  const client = createSandboxClient({ endpoint: "http://127.0.0.1:1/api", fetch: t.fetch, retry: { maxRetries: 2 } });
  await assert.rejects(unwrap(client.api.GET("/v1/whoami")), (error: unknown) => {
    assert.ok(error instanceof SandboxApiError);
    assert.equal(error.status, 503);
    assert.equal(error.code, "UpstreamUnavailable");
    assert.equal(error.target, "body.x");
    assert.equal(error.details[0]?.target, "x");
    assert.equal(error.requestId, "req-9");
    assert.equal(error.retryAfterSeconds, 0);
    return true;
  });
  assert.equal(t.seen.length, 3);
  assert.equal(t.seen[0]!.headers.get("repeatability-request-id"), null, "GET carries no repeatability header");
});

test("GETs and 4xx other than 429 are not retried", async () => {
  const t = transport([{ status: 409, body: ERROR("Conflict") }]);
  const client = createSandboxClient({ endpoint: "http://127.0.0.1:1/api/v1", fetch: t.fetch });
  await assert.rejects(unwrap(client.api.GET("/v1/whoami")), { code: "Conflict" });
  assert.equal(t.seen.length, 1);
});

test("a TokenCredential is asked for the configured scopes", async () => {
  const asked: unknown[] = [];
  const t = transport([{ status: 200, body: { id: "x" } }]);
  const client = createSandboxClient({
    endpoint: "http://127.0.0.1:1/api/v1",
    fetch: t.fetch,
    scopes: "api://sandbox/.default",
    token: { getToken: async (scopes) => (asked.push(scopes), { token: "entra" }) },
  });
  await unwrap(client.api.GET("/v1/whoami"));
  assert.deepEqual(asked, ["api://sandbox/.default"]);
  assert.equal(t.seen[0]!.headers.get("authorization"), "Bearer entra");
});

test("waitForOperation polls until the end, honouring Retry-After, reporting progress; a failed operation throws its code", async () => {
  const running = { id: "op_A", kind: "CreateCluster", status: "Running", percentComplete: 50 };
  const t = transport([
    { status: 200, body: running, headers: { "retry-after": "0" } },
    { status: 200, body: { ...running, status: "Succeeded", percentComplete: 100 } },
  ]);
  const client = createSandboxClient({ endpoint: "http://127.0.0.1:1/api/v1", fetch: t.fetch });
  const seen: number[] = [];
  const done = await client.waitForOperation("/api/v1/operations/op_A", {
    onProgress: (op) => seen.push(op.percentComplete ?? -1),
  });
  assert.equal(done.status, "Succeeded");
  assert.deepEqual(seen, [50, 100]);
  assert.match(t.seen[0]!.url, /\/api\/v1\/operations\/op_A$/);

  const failed = transport([
    {
      status: 200,
      body: { id: "op_B", status: "Failed", error: { code: "FeatureNotRegistered", message: "needs approval" } },
    },
  ]);
  const client2 = createSandboxClient({ endpoint: "http://127.0.0.1:1/api/v1", fetch: failed.fetch });
  await assert.rejects(
    client2.waitForOperation("op_B"),
    (error: unknown) =>
      error instanceof SandboxApiError &&
      error.code === "FeatureNotRegistered" &&
      (error.operation as { id: string }).id === "op_B",
  );
});

test("waitForOperation stops when its signal aborts", async () => {
  const t = transport([{ status: 200, body: { id: "op_C", status: "Running" }, headers: { "retry-after": "3600" } }]);
  const client = createSandboxClient({ endpoint: "http://127.0.0.1:1/api/v1", fetch: t.fetch });
  const abort = new AbortController();
  const waiting = client.waitForOperation("op_C", { signal: abort.signal, onProgress: () => abort.abort() });
  await assert.rejects(waiting, { name: "AbortError" });
});

test("paging follows nextLink's continuationToken until the last page", async () => {
  const t = transport([
    {
      status: 200,
      body: { value: [{ name: "a" }, { name: "b" }], nextLink: "http://h/api/v1/jobs?top=2&continuationToken=T1" },
    },
    { status: 200, body: { value: [{ name: "c" }] } },
  ]);
  const client = createSandboxClient({ endpoint: "http://127.0.0.1:1/api/v1", fetch: t.fetch });
  const names: string[] = [];
  for await (const job of client.listJobs({ top: 2 })) names.push(job.name ?? "");
  assert.deepEqual(names, ["a", "b", "c"]);
  assert.equal(new URL(t.seen[1]!.url).searchParams.get("continuationToken"), "T1");
  assert.equal(new URL(t.seen[1]!.url).searchParams.get("top"), "2");
});

test("an unreachable API is a typed ConnectionFailed error", async () => {
  const client = createSandboxClient({
    endpoint: "http://127.0.0.1:1/api/v1",
    fetch: async () => Promise.reject(new TypeError("fetch failed")),
  });
  await assert.rejects(unwrap(client.api.GET("/v1/healthz")), { code: "ConnectionFailed", status: 0 });
});
