import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseFieldSelector, parseLabelSelector } from "../../../../src/emulators/kubernetes/parseLabelSelector.js";
import { parseQuantity } from "../../../../src/emulators/kubernetes/parseQuantity.js";
import { validateLabels, validateObjectMeta } from "../../../../src/emulators/kubernetes/validateObjectMeta.js";
import { KubernetesApiError } from "../../../../src/emulators/kubernetes/kubernetesApiError.js";

describe("label selectors", () => {
  const labels = { app: "web", tier: "front", "batch.kubernetes.io/job-name": "j1" };
  const cases: Array<[string, boolean]> = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app=db", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["app=web,tier=back", false],
    ["app in (db, web)", true],
    ["app in (db)", false],
    ["app notin (db)", true],
    ["app notin (web)", false],
    ["missing notin (web)", true],
    ["tier", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["batch.kubernetes.io/job-name=j1,app in (web)", true],
  ];
  for (const [selector, expected] of cases) {
    test(`"${selector}" → ${expected}`, () => assert.equal(parseLabelSelector(selector)(labels), expected));
  }
  test("syntax errors are 400 BadRequest", () => {
    assert.throws(
      () => parseLabelSelector("app in web"),
      (e: unknown) => e instanceof KubernetesApiError && e.code === 400 && e.reason === "BadRequest",
    );
  });
});

describe("field selectors", () => {
  const event = { metadata: { name: "e1", namespace: "default" }, involvedObject: { name: "job-1", kind: "Job" } };
  test("equality and inequality over dotted paths", () => {
    assert.equal(parseFieldSelector("involvedObject.name=job-1")(event), true);
    assert.equal(parseFieldSelector("involvedObject.name=job-2")(event), false);
    assert.equal(parseFieldSelector("involvedObject.kind!=Pod,metadata.name==e1")(event), true);
  });
});

describe("quantities", () => {
  test("cpu and memory forms", () => {
    assert.equal(parseQuantity("500m"), 0.5);
    assert.equal(parseQuantity("2"), 2);
    assert.equal(parseQuantity(1.5), 1.5);
    assert.equal(parseQuantity("2Gi"), 2 * 2 ** 30);
    assert.equal(parseQuantity("128M"), 128e6);
    assert.equal(parseQuantity("1e3"), 1000);
    assert.equal(parseQuantity("lots"), undefined);
  });
});

describe("name and label validation", () => {
  test("DNS-1123 subdomain names with the apiserver's message", () => {
    const causes = validateObjectMeta({ name: "Bad_Name" }, "subdomain");
    assert.equal(causes.length, 1);
    assert.equal(causes[0]?.reason, "FieldValueInvalid");
    assert.equal(causes[0]?.field, "metadata.name");
    assert.match(causes[0]?.message ?? "", /^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.deepEqual(validateObjectMeta({ name: "ok.name-1" }, "subdomain"), []);
    assert.equal(validateObjectMeta({ name: "ok.name" }, "label").length, 1, "dots are not allowed in labels");
  });
  test("missing name is FieldValueRequired", () => {
    assert.deepEqual(validateObjectMeta({}, "subdomain"), [
      {
        reason: "FieldValueRequired",
        message: "Required value: name or generateName is required",
        field: "metadata.name",
      },
    ]);
  });
  test("label keys and values", () => {
    assert.deepEqual(validateLabels("metadata.labels", { "example.com/app": "v1.0_x", app: "" }), []);
    assert.equal(validateLabels("metadata.labels", { "bad key": "v" }).length, 1);
    assert.equal(validateLabels("metadata.labels", { app: "-bad" }).length, 1);
    assert.equal(validateLabels("metadata.labels", { app: "x".repeat(64) }).length, 1);
  });
});
