import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import functionsLibrary from "@azure/functions";
import { installFunctionsCore } from "../../../src/localhost/functionsCoreShim.js";
import { LocalFunctionsHost } from "../../../src/localhost/localFunctionsHost.js";
import type { LogLine } from "../../../src/localhost/accessLog.js";

// Registrations go through the real @azure/functions library into the shim.
const registry = installFunctionsCore();
const { app, HttpResponse } = functionsLibrary;

let timerRuns = 0;
let slowTimerActive = 0;
let slowTimerMaxConcurrent = 0;
let startupRuns = 0;
let releaseSlowRequest: (() => void) | undefined;

app.http("echo", {
  route: "v1/echo/{name}/{id:int?}",
  methods: ["GET", "POST"],
  authLevel: "anonymous",
  handler: async (request, context) => ({
    jsonBody: {
      params: request.params,
      query: Object.fromEntries(request.query),
      method: request.method,
      body: request.method === "POST" ? await request.text() : null,
      invocationId: context.invocationId,
      functionName: context.functionName,
      header: request.headers.get("x-test"),
    },
  }),
});
app.http("keyed", {
  route: "v1/keyed",
  methods: ["GET"],
  authLevel: "function",
  handler: async () => ({ body: "ok" }),
});
app.http("adminOnly", {
  route: "v1/admin-only",
  methods: ["DELETE"],
  authLevel: "admin",
  handler: async () => ({ status: 204 }),
});
app.http("cookies", {
  route: "v1/cookies",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async () =>
    new HttpResponse({
      status: 201,
      headers: { "x-a": "1" },
      cookies: [{ name: "c", value: "v w", httpOnly: true, path: "/" }],
      body: "made",
    }),
});
app.http("debugLog", {
  route: "v1/debug-log",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async (_request, context) => {
    context.debug("a debug detail");
    return { status: 204 };
  },
});
app.http("throws", {
  route: "v1/throws",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async () => {
    throw new Error("boom with secret=hunter2");
  },
});
app.http("slow", {
  route: "v1/slow",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async () => {
    await new Promise<void>((resolve) => (releaseSlowRequest = resolve));
    return { body: "finally" };
  },
});
app.timer("everySecond", {
  schedule: "* * * * * *",
  handler: async () => {
    timerRuns += 1;
  },
});
app.timer("slowTimer", {
  schedule: "0 0 0 1 1 *",
  handler: async () => {
    slowTimerActive += 1;
    slowTimerMaxConcurrent = Math.max(slowTimerMaxConcurrent, slowTimerActive);
    await new Promise((r) => setTimeout(r, 150));
    slowTimerActive -= 1;
  },
});
app.timer("onStartup", {
  schedule: "0 0 0 1 1 *",
  runOnStartup: true,
  handler: async () => {
    startupRuns += 1;
  },
});
let failingRuns = 0;
// A timer whose dependency is down (Azurite gone): its failure is logged; the host keeps running.
app.timer("failsEverySecond", {
  schedule: "* * * * * *",
  runOnStartup: true,
  handler: async () => {
    failingRuns += 1;
    throw new Error("storage is down");
  },
});

describe("LocalFunctionsHost", () => {
  let host: LocalFunctionsHost;
  const logs: LogLine[] = [];
  let base: string;

  before(async () => {
    host = new LocalFunctionsHost({
      registry,
      routePrefix: "api",
      port: 0,
      functionKeys: ["fkey"],
      masterKey: "mkey",
      log: (line) => logs.push(line),
    });
    await host.listen();
    await host.start();
    base = host.url;
  });
  after(async () => {
    await host.close();
  });

  test("registrations arrive with their metadata, as the Functions host receives them", () => {
    const echo = registry.get("echo")!;
    assert.equal(echo.trigger.type, "httpTrigger");
    assert.deepEqual(echo.trigger.methods, ["GET", "POST"]);
    assert.equal(echo.trigger.route, "v1/echo/{name}/{id:int?}");
    assert.equal(registry.get("everySecond")!.trigger.schedule, "* * * * * *");
    assert.equal(registry.get("onStartup")!.trigger.runOnStartup, true);
  });

  test("routes with parameters, optional parameters and constraints; real HttpRequest/InvocationContext", async () => {
    const res = await fetch(`${base}/api/v1/echo/ada/7?x=1`, { headers: { "x-test": "t" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.params, { name: "ada", id: "7" });
    assert.deepEqual(body.query, { x: "1" });
    assert.equal(body.functionName, "echo");
    assert.equal(body.header, "t");
    assert.match(String(body.invocationId), /^[0-9a-f-]{36}$/);
    const noId = (await (await fetch(`${base}/api/v1/echo/ada`)).json()) as Record<string, unknown>;
    assert.deepEqual(noId.params, { name: "ada" });
    const badConstraint = await fetch(`${base}/api/v1/echo/ada/notint`);
    assert.equal(badConstraint.status, 404);
  });

  test("POST bodies reach the handler", async () => {
    const res = await fetch(`${base}/api/v1/echo/ada`, {
      method: "POST",
      body: "hello",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(((await res.json()) as { body: string }).body, "hello");
  });

  test("404 and 405 (with Allow) are JSON error bodies", async () => {
    const notFound = await fetch(`${base}/api/v1/nothing`);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get("x-ms-error-code"), "NotFound");
    assert.equal(((await notFound.json()) as { error: { code: string } }).error.code, "NotFound");
    const outsidePrefix = await fetch(`${base}/v1/echo/ada`);
    assert.equal(outsidePrefix.status, 404);
    const wrongMethod = await fetch(`${base}/api/v1/echo/ada`, { method: "DELETE" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "GET, POST");
    assert.equal(((await wrongMethod.json()) as { error: { code: string } }).error.code, "MethodNotAllowed");
  });

  test("authLevel function needs a function or master key (header or code query); admin needs the master key", async () => {
    assert.equal((await fetch(`${base}/api/v1/keyed`)).status, 401);
    assert.equal((await fetch(`${base}/api/v1/keyed`, { headers: { "x-functions-key": "wrong" } })).status, 401);
    assert.equal((await fetch(`${base}/api/v1/keyed`, { headers: { "x-functions-key": "fkey" } })).status, 200);
    assert.equal((await fetch(`${base}/api/v1/keyed?code=fkey`)).status, 200);
    assert.equal((await fetch(`${base}/api/v1/keyed?code=mkey`)).status, 200);
    assert.equal(
      (await fetch(`${base}/api/v1/admin-only`, { method: "DELETE", headers: { "x-functions-key": "fkey" } })).status,
      401,
    );
    assert.equal(
      (await fetch(`${base}/api/v1/admin-only`, { method: "DELETE", headers: { "x-functions-key": "mkey" } })).status,
      204,
    );
    const unauthorized = await fetch(`${base}/api/v1/keyed`);
    assert.equal(((await unauthorized.json()) as { error: { code: string } }).error.code, "Unauthorized");
  });

  test("HttpResponse status, headers, cookies and body are written", async () => {
    const res = await fetch(`${base}/api/v1/cookies`);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-a"), "1");
    assert.match(res.headers.get("set-cookie") ?? "", /^c=v%20w; Path=\/; HttpOnly/);
    assert.equal(await res.text(), "made");
  });

  test("a throwing handler gives 500 InternalError without the cause", async () => {
    const res = await fetch(`${base}/api/v1/throws`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.match(text, /InternalError/);
    assert.doesNotMatch(text, /hunter2|boom/);
  });

  test("bodies over 1 MiB get 413 PayloadTooLarge", async () => {
    const big = "x".repeat(1024 * 1024 + 1);
    const res = await fetch(`${base}/api/v1/echo/ada`, { method: "POST", body: big });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "PayloadTooLarge");
    const exactly = await fetch(`${base}/api/v1/echo/ada`, { method: "POST", body: "y".repeat(1024 * 1024) });
    assert.equal(exactly.status, 200);
  });

  test("one structured access-log line per request, no headers or bodies", async () => {
    logs.length = 0;
    await fetch(`${base}/api/v1/echo/zed?secret=q`, { headers: { authorization: "Bearer abc.def.ghi" } });
    const lines = logs.filter((l) => l.msg === "request");
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line.method, "GET");
    assert.equal(line.route, "/api/v1/echo/{name}/{id:int?}");
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, "number");
    assert.match(String(line.invocationId), /^[0-9a-f-]{36}$/);
    assert.doesNotMatch(JSON.stringify(logs), /abc\.def\.ghi|secret=q|zed/);
  });

  test("LOG_LEVEL filters lines: warn drops access lines, debug keeps handler debug lines", async () => {
    for (const [level, expectRequest, expectDebug] of [
      ["warn", false, false],
      ["info", true, false],
      ["debug", true, true],
    ] as const) {
      const lines: LogLine[] = [];
      const other = new LocalFunctionsHost({
        registry,
        port: 0,
        enableTimers: false,
        logLevel: level,
        log: (l) => lines.push(l),
      });
      await other.listen();
      await other.start();
      await fetch(`${other.url}/api/v1/debug-log`);
      await other.close();
      assert.equal(
        lines.some((l) => l.msg === "request"),
        expectRequest,
        `${level}: request line`,
      );
      assert.equal(
        lines.some((l) => l.msg === "a debug detail"),
        expectDebug,
        `${level}: debug line`,
      );
    }
  });

  test("runOnStartup runs once at start; the NCRONTAB schedule with seconds fires", async () => {
    assert.equal(startupRuns, 1);
    const before = timerRuns;
    await new Promise((r) => setTimeout(r, 2300));
    assert.ok(timerRuns - before >= 1, `every-second timer ran ${timerRuns - before} times in 2.3 s`);
  });

  test("a timer that throws (storage down) is logged as failed and never takes the host down", async () => {
    const before = failingRuns;
    await new Promise((r) => setTimeout(r, 2300));
    assert.ok(failingRuns - before >= 1, "it kept firing");
    assert.equal((await fetch(`${base}/api/v1/debug-log`)).status < 500, true, "the host still serves");
  });

  test("fireTimer runs now and awaits; runs of one timer never overlap", async () => {
    await Promise.all([host.fireTimer("slowTimer"), host.fireTimer("slowTimer"), host.fireTimer("slowTimer")]);
    assert.equal(slowTimerMaxConcurrent, 1);
    await assert.rejects(host.fireTimer("nope"), /No timer function/);
  });

  test("POST /admin/functions/{name} runs a timer with the master key only", async () => {
    const runs = timerRuns;
    assert.equal((await fetch(`${base}/admin/functions/everySecond`, { method: "POST" })).status, 401);
    const res = await fetch(`${base}/admin/functions/everySecond`, {
      method: "POST",
      headers: { "x-functions-key": "mkey" },
    });
    assert.equal(res.status, 202);
    assert.ok(timerRuns > runs);
    assert.equal(
      (await fetch(`${base}/admin/functions/echo`, { method: "POST", headers: { "x-functions-key": "mkey" } })).status,
      404,
    );
  });

  test("graceful shutdown drains the in-flight request, then refuses connections", async () => {
    const inFlight = fetch(`${base}/api/v1/slow`);
    while (!releaseSlowRequest) await new Promise((r) => setTimeout(r, 10));
    const closing = host.close();
    await new Promise((r) => setTimeout(r, 50));
    releaseSlowRequest();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "finally");
    await closing;
    await assert.rejects(fetch(`${base}/api/v1/echo/a`));
  });
});
