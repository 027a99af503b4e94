// Azure's name rules for the clusterName, poolName and resourceGroup path parameters are real `pattern`s in the
// OpenAPI document, on every route that has them, and the request validator enforces them (400 with the target).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { isSandboxError } from "../../../src/domain/sandboxError.js";
import { openApiOperations } from "../../../src/http/openApiDocument.js";
import { loadRequestValidation, validateRequest } from "../../../src/http/requestValidator.js";

const GOOD: Record<string, string> = {
  subscriptionId: "aaaaaaaa-0000-0000-0000-000000000001",
  resourceGroup: "rg-alpha_1(x).y",
  clusterName: "kata_1-c",
  poolName: "kata1",
  jobName: "job-1",
  webhookName: "hook-1",
  operationId: "op_1",
  deliveryId: "d-1",
  asset: "swagger-ui.css",
};

const BAD: Record<string, string[]> = {
  // AKS's resourceName pattern: letters, digits, '-', '_'; starts and ends with a letter or digit; ≤ 63.
  clusterName: ["-kata", "kata-", "kata.1", "kata 1", "k".repeat(64), "ka@ta"],
  // AKS's rule for Linux agent pools: a lowercase letter, then ≤ 11 lowercase letters or digits.
  poolName: ["Bad_Pool", "1pool", "pool-1", "Kata", "abcdefghijklm"],
  // The ARM swagger's ^[-\w\._\(\)]+$ (1–90), and no trailing period.
  resourceGroup: ["rg.", "rg/x", "rg x", "rg#1", "r".repeat(91)],
};

const parts = (params: Record<string, string>) => ({
  params,
  query: new URLSearchParams(),
  headers: new Headers(),
  body: undefined,
  hasBody: false,
});

function pathParamsOf(operationId: string): string[] {
  const entry = openApiOperations().get(operationId)!;
  return entry.parameters.filter((p) => p.in === "path").map((p) => p.name);
}

describe("Azure name patterns on path parameters", () => {
  before(() => loadRequestValidation());

  const routes = (name: string) =>
    [...openApiOperations().values()].filter((e) => pathParamsOf(e.operationId).includes(name));

  test("every route with clusterName, poolName or resourceGroup carries the pattern (cluster create routes too)", () => {
    const expected: Record<string, string> = {
      clusterName: "^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$",
      poolName: "^[a-z][a-z0-9]{0,11}$",
      resourceGroup: "^[-\\w._()]*[-\\w_()]$",
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const entries = routes(name);
      assert.ok(entries.length > 0, name);
      for (const entry of entries) {
        const parameter = entry.parameters.find((p) => p.in === "path" && p.name === name)!;
        assert.equal((parameter.schema as { pattern?: string }).pattern, pattern, `${entry.operationId} ${name}`);
      }
    }
    assert.ok(routes("clusterName").some((e) => e.operationId === "createCluster"));
    assert.ok(routes("poolName").some((e) => e.operationId === "putSandboxPool"));
  });

  test("a name outside the pattern is 400 InvalidRequest targeting the parameter, on every route", () => {
    let checked = 0;
    for (const [name, values] of Object.entries(BAD)) {
      for (const entry of routes(name)) {
        checked++;
        const good = Object.fromEntries(pathParamsOf(entry.operationId).map((p) => [p, GOOD[p] ?? "x"]));
        const pathProblems = (params: Record<string, string>) => {
          try {
            validateRequest(entry.operationId, parts(params));
            return [];
          } catch (error) {
            assert.ok(isSandboxError(error));
            return error.details.filter((d) => d.target?.startsWith("path.")).map((d) => d.target);
          }
        };
        assert.deepEqual(pathProblems(good), [], entry.operationId);
        for (const value of values) {
          assert.throws(
            () => validateRequest(entry.operationId, parts({ ...good, [name]: value })),
            (error: unknown) =>
              isSandboxError(error) &&
              error.code === "InvalidRequest" &&
              error.target === `path.${name}` &&
              /must match pattern|must NOT have more/.test(error.message),
            `${entry.operationId} ${name}=${value}`,
          );
        }
      }
    }
    assert.ok(checked >= 20, `routes checked: ${checked}`);
  });
});
