import { test } from "node:test";
import assert from "node:assert/strict";
import { FaultInjector } from "../../../../src/emulators/arm/faultInjector.js";
import { RequestLog } from "../../../../src/emulators/arm/requestLog.js";

test("templates, regexes, methods, times and probability", () => {
  const f = new FaultInjector();
  const a = f.add({
    method: "put",
    pathPattern: "/subscriptions/{s}/resourceGroups/{rg}/*",
    times: 2,
    action: { status: 503 },
  });
  assert.equal(
    f.match("PUT", "/subscriptions/x/resourcegroups/rg/providers/a/b", "request")?.id,
    a,
    "template literals match case-insensitively",
  );
  assert.equal(f.match("GET", "/subscriptions/x/resourceGroups/rg/a", "request"), undefined, "method filter");
  assert.equal(f.match("PUT", "/subscriptions/x/other/rg/a", "request"), undefined);
  assert.equal(f.match("PUT", "/subscriptions/x/resourceGroups/rg/a", "request")?.id, a);
  assert.equal(f.match("PUT", "/subscriptions/x/resourceGroups/rg/a", "request"), undefined, "times exhausted");
  f.add({ pathPattern: "^/never$", probability: 0, action: { reset: true } });
  assert.equal(f.match("GET", "/never", "request"), undefined, "probability 0 never fires");
  const lro = f.add({ pathPattern: "/x/{y}", action: { failLro: { code: "C", message: "m" } } });
  assert.equal(f.match("PUT", "/x/1", "request"), undefined, "failLro rules do not fire on the request");
  assert.equal(f.match("PUT", "/x/1", "lro")?.id, lro);
  assert.equal(f.list().length, 3);
  assert.ok(f.remove(lro));
  f.clear();
  assert.equal(f.list().length, 0);
  assert.throws(() => f.add({ pathPattern: "/x", action: { status: 404 } as never }), TypeError);
  assert.throws(() => f.add({ pathPattern: "/x", probability: 2, action: { reset: true } }), TypeError);
});

test("request log counts per method and template, and finds requests earlier than a Retry-After", () => {
  const log = new RequestLog();
  const base = { simulatedTime: "", method: "GET", template: "/ops/{id}", status: 200, durationMs: 0 };
  log.add({ ...base, wallTime: new Date(1000).toISOString(), path: "/ops/1", retryAfterMs: 500 });
  log.add({ ...base, wallTime: new Date(1200).toISOString(), path: "/ops/1" });
  log.add({ ...base, wallTime: new Date(1600).toISOString(), path: "/ops/1" });
  assert.equal(log.count("get", "/ops/{id}"), 3);
  const early = log.earlyRequests();
  assert.equal(early.length, 1);
  assert.equal(early[0]!.earlyByMs, 300);
  log.clear();
  assert.deepEqual(log.toJSON(), { counts: {}, total: 0, entries: [] });
});
