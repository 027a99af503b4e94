import { test } from "node:test";
import assert from "node:assert/strict";
import { compileRouteTemplate } from "../../../src/localhost/routeTemplate.js";

test("literal and parameter segments", () => {
  const r = compileRouteTemplate("api/v1/clusters/{clusterName}/jobs/{jobName}");
  assert.deepEqual(r.match("/api/v1/clusters/c1/jobs/j-1"), { clusterName: "c1", jobName: "j-1" });
  assert.deepEqual(
    r.match("/API/V1/clusters/c1/jobs/j-1/"),
    { clusterName: "c1", jobName: "j-1" },
    "literals are case-insensitive, trailing slash ok",
  );
  assert.equal(r.match("/api/v1/clusters/c1/jobs"), undefined);
  assert.equal(r.match("/api/v1/clusters/c1/jobs/j/extra"), undefined);
  assert.equal(r.specificity, 4);
});

test("optional and catch-all parameters", () => {
  const opt = compileRouteTemplate("api/items/{id?}");
  assert.deepEqual(opt.match("/api/items"), {});
  assert.deepEqual(opt.match("/api/items/7"), { id: "7" });
  const all = compileRouteTemplate("api/files/{*path}");
  assert.deepEqual(all.match("/api/files/a/b/c.txt"), { path: "a/b/c.txt" });
});

test("constraints", () => {
  const r = compileRouteTemplate("api/n/{id:int}/{name:alpha}/{g:guid?}");
  assert.deepEqual(r.match("/api/n/42/abc"), { id: "42", name: "abc" });
  assert.equal(r.match("/api/n/x/abc"), undefined);
  assert.equal(r.match("/api/n/42/ab1"), undefined);
  assert.deepEqual(r.match("/api/n/1/a/0f8fad5b-d9cb-469f-a165-70867728950e"), {
    id: "1",
    name: "a",
    g: "0f8fad5b-d9cb-469f-a165-70867728950e",
  });
  assert.equal(r.match("/api/n/1/a/not-a-guid"), undefined);
  const re = compileRouteTemplate("api/p/{pool:regex(^[a-z][a-z0-9]*$)}");
  assert.deepEqual(re.match("/api/p/pool1"), { pool: "pool1" });
  assert.equal(re.match("/api/p/1pool"), undefined);
  const len = compileRouteTemplate("api/l/{v:length(2,3)}/{w:maxlength(2)}/{x:min(5)}");
  assert.deepEqual(len.match("/api/l/ab/c/9"), { v: "ab", w: "c", x: "9" });
  assert.equal(len.match("/api/l/a/c/9"), undefined);
  assert.equal(len.match("/api/l/ab/c/4"), undefined);
});

test("percent-decoding of parameters; bad encoding does not match", () => {
  const r = compileRouteTemplate("api/x/{v}");
  assert.deepEqual(r.match("/api/x/a%20b"), { v: "a b" });
  assert.equal(r.match("/api/x/%E0%A4%A"), undefined);
});

test("malformed templates and unknown constraints throw", () => {
  assert.throws(() => compileRouteTemplate("api/{a:nope}"), /unsupported constraint/);
  assert.throws(() => compileRouteTemplate("api/x{a}"), /unsupported segment/);
  assert.throws(() => compileRouteTemplate("api/{1a}"), /bad parameter/);
  assert.throws(() => compileRouteTemplate("api/{*a}/b"), /catch-all must be last/);
});
