import { test } from "node:test";
import assert from "node:assert/strict";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import {
  checkImageAllowed,
  checkIsolationAllowed,
  checkJobQuotas,
  imageAllowed,
  normalizeImageReference,
  parseCpuQuantity,
  parseMemoryQuantityMiB,
  runAsNonRootRequired,
} from "../../../../src/domain/policy/jobLimits.js";
import { fixturePolicy, principal } from "../../../support/policyFixtures.js";

const policy = fixturePolicy();
const alpha = policy.teams.get("alpha")!;
const beta = policy.teams.get("beta")!;

test("image references normalize like container runtimes do", () => {
  assert.equal(normalizeImageReference("ubuntu"), "docker.io/library/ubuntu");
  assert.equal(normalizeImageReference("team/app:1"), "docker.io/team/app:1");
  assert.equal(normalizeImageReference("MCR.Microsoft.com/aks/x:1"), "mcr.microsoft.com/aks/x:1");
  assert.equal(normalizeImageReference("localhost/app"), "localhost/app");
  assert.equal(normalizeImageReference("https://mcr.microsoft.com/x"), undefined);
  assert.equal(normalizeImageReference("mcr.microsoft.com/../x"), undefined);
});

test("registry allow-list: prefixes match at path boundaries only", () => {
  const cases: [string, boolean][] = [
    ["mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11", true],
    ["mcr.microsoft.com.evil.io/aks/x:1", false],
    ["alphaacr.azurecr.io/alpha/app:1", true],
    ["alphaacr.azurecr.io/alpha:1", true],
    ["alphaacr.azurecr.io/alpha@sha256:0123", true],
    ["alphaacr.azurecr.io/alphabet/app:1", false],
    ["alphaacr.azurecr.io/beta/app:1", false],
    ["ubuntu:22.04", false],
    ["docker.io/library/ubuntu", false],
  ];
  for (const [image, allowed] of cases) assert.equal(imageAllowed(alpha.allowedRegistries, image), allowed, image);
  assert.ok(imageAllowed(["docker.io/library/"], "ubuntu"), "short Docker Hub names resolve before matching");
  assert.ok(imageAllowed(["myregistry.io:5000"], "myregistry.io:5000/app:1"));
  assert.ok(!imageAllowed([], "mcr.microsoft.com/x"));
});

test("a refused image is Forbidden and the message names the allowed registries", () => {
  try {
    checkImageAllowed(beta, "ghcr.io/evil/miner:latest");
    assert.fail("expected Forbidden");
  } catch (error) {
    assert.ok(error instanceof SandboxError);
    assert.equal(error.code, "Forbidden");
    assert.equal(error.target, "body.image");
    assert.match(error.message, /allowedRegistries: mcr\.microsoft\.com\//);
  }
  checkImageAllowed(beta, "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11");
});

test("quantities", () => {
  assert.equal(parseCpuQuantity("500m"), 0.5);
  assert.equal(parseCpuQuantity("2"), 2);
  assert.equal(parseCpuQuantity("0.25"), 0.25);
  assert.equal(parseCpuQuantity("two"), undefined);
  assert.equal(parseMemoryQuantityMiB("512Mi"), 512);
  assert.equal(parseMemoryQuantityMiB("1Gi"), 1024);
  assert.equal(parseMemoryQuantityMiB("1048576"), 1);
  assert.equal(parseMemoryQuantityMiB("1e6"), 1e6 / 2 ** 20);
  assert.equal(parseMemoryQuantityMiB("1G"), 1e9 / 2 ** 20);
  assert.equal(parseMemoryQuantityMiB("lots"), undefined);
});

test("per-job quotas: every exceeded limit is named; within limits passes", () => {
  checkJobQuotas(beta, { cpuLimit: "1", memoryLimit: "1Gi", timeoutSeconds: 600 });
  checkJobQuotas(beta, { timeoutSeconds: 60 });
  try {
    checkJobQuotas(beta, { cpuLimit: "1500m", memoryLimit: "2Gi", timeoutSeconds: 601 });
    assert.fail("expected JobLimitExceeded");
  } catch (error) {
    assert.ok(error instanceof SandboxError);
    assert.equal(error.code, "JobLimitExceeded", "a per-job limit is 422 JobLimitExceeded: SDKs retry 429 for nothing");
    assert.equal(error.retryAfterSeconds, undefined);
    assert.match(error.message, /maxVCpuPerJob \(1 vCPU\)/);
    assert.deepEqual(
      error.details.map((d) => d.target),
      ["body.resources.limits.cpu", "body.resources.limits.memory", "body.timeoutSeconds"],
    );
    assert.match(error.details[1]!.message, /maxMemoryMiBPerJob \(1024 MiB\)/);
    assert.match(error.details[2]!.message, /maxTimeoutSeconds \(600\)/);
  }
  assert.throws(
    () => checkJobQuotas(beta, { cpuLimit: "lots", timeoutSeconds: 1 }),
    (e: unknown) => e instanceof SandboxError && e.code === "InvalidRequest",
  );
});

test("isolation none needs Operator; runAsNonRoot is relaxed only for sandboxed jobs of allowed teams", () => {
  assert.throws(() => checkIsolationAllowed(principal("alpha", ["Sandbox.Submitter"]), "none"), /Sandbox\.Operator/);
  checkIsolationAllowed(principal("alpha", ["Sandbox.Operator"]), "none");
  checkIsolationAllowed(principal("alpha", ["Sandbox.Submitter"]), "sandbox");
  assert.equal(runAsNonRootRequired(alpha, "sandbox"), false);
  assert.equal(runAsNonRootRequired(alpha, "none"), true);
  assert.equal(runAsNonRootRequired(beta, "sandbox"), true);
});
