import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isDns1123Label,
  isValidImageReference,
  REQUESTS_IGNORED_WARNING,
  validateJobSubmission,
  type JobSubmissionBody,
} from "../../../../src/domain/jobs/jobSubmission.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import { fixturePolicy, principal } from "../../../support/policyFixtures.js";

const policy = fixturePolicy();
const alpha = policy.teams.get("alpha")!;
const beta = policy.teams.get("beta")!;
const submitter = principal("alpha", ["Sandbox.Submitter"]);
const ctx = { principal: submitter, team: alpha, generateName: () => "job-generated" };
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";

function code(body: JobSubmissionBody, context = ctx): string {
  try {
    validateJobSubmission(body, context);
    return "ok";
  } catch (error) {
    assert.ok(error instanceof SandboxError);
    return `${error.code}@${error.target ?? ""}`;
  }
}

test("image references: the distribution/reference grammar", () => {
  for (const ok of [
    IMAGE,
    "ubuntu",
    "ubuntu:22.04",
    "localhost:5000/a/b:c",
    "myacr.azurecr.io/team/app@sha256:" + "a".repeat(64),
    "a/b_c__d-e.f:1.0-rc",
  ])
    assert.ok(isValidImageReference(ok), ok);
  for (const bad of [
    "",
    "Ubuntu",
    "mcr.microsoft.com/Aks/x",
    "a b",
    "https://x/y",
    "x:",
    "x@sha256:abc",
    "-x",
    "x/-y",
    "x::1",
    "a/" + "b".repeat(300),
  ])
    assert.ok(!isValidImageReference(bad), bad);
});

test("names are DNS-1123 labels", () => {
  assert.ok(isDns1123Label("a") && isDns1123Label("job-1") && isDns1123Label("x".repeat(63)));
  for (const bad of ["", "A", "-a", "a-", "a_b", "x".repeat(64), "a.b"]) assert.ok(!isDns1123Label(bad), bad);
});

test("defaults: sandbox isolation, generated name, timeout capped at the team maximum, non-root, no warnings", () => {
  const spec = validateJobSubmission(
    { image: IMAGE },
    { ...ctx, team: beta, principal: principal("beta", ["Sandbox.Submitter"]) },
  );
  assert.equal(spec.name, "job-generated");
  assert.equal(spec.isolation, "sandbox");
  assert.equal(spec.timeoutSeconds, 600);
  assert.equal(spec.ttlSecondsAfterFinished, 3600);
  assert.equal(spec.backoffLimit, 0);
  assert.equal(spec.runAsNonRoot, true);
  assert.deepEqual(spec.warnings, []);
  assert.equal(spec.cpuLimit, undefined);
});

test("limits are parsed; requests are accepted with a warning (sandbox only)", () => {
  const spec = validateJobSubmission(
    { image: IMAGE, resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "250m" } } },
    ctx,
  );
  assert.equal(spec.cpuLimit, 0.5);
  assert.equal(spec.memoryLimitMiB, 1024);
  assert.deepEqual(spec.warnings, [REQUESTS_IGNORED_WARNING]);
  assert.equal(spec.runAsNonRoot, false, "alpha may run sandboxed jobs as root");
  const trusted = validateJobSubmission(
    { image: IMAGE, isolation: "none", resources: { requests: { cpu: "250m" } } },
    { ...ctx, principal: principal("alpha", ["Sandbox.Operator"]) },
  );
  assert.deepEqual(trusted.warnings, []);
  assert.equal(trusted.runAsNonRoot, true, "never relaxed for trusted pods");
});

test("each bad input has its specific code and target, host namespaces first", () => {
  assert.equal(code({ image: "Bad Image", hostNetwork: true }), "HostNetworkNotSupported@body.hostNetwork");
  assert.equal(code({ image: IMAGE, hostIPC: true, isolation: "none" }), "HostNetworkNotSupported@body.hostIPC");
  assert.equal(code({ image: IMAGE, hostNetwork: false, hostPID: false, hostIPC: false }), "ok");
  assert.equal(code({ image: IMAGE, name: "Bad" }), "InvalidRequest@body.name");
  assert.equal(code({ image: "MCR.io/X" }), "InvalidRequest@body.image");
  assert.equal(
    code({ image: IMAGE, resources: { limits: { cpu: "1.5.0" } } }),
    "InvalidRequest@body.resources.limits.cpu",
  );
  assert.equal(code({ image: IMAGE, resources: { limits: { cpu: "0" } } }), "InvalidRequest@body.resources.limits.cpu");
  assert.equal(
    code({ image: IMAGE, resources: { limits: { cpu: "100u" } } }),
    "InvalidRequest@body.resources.limits.cpu",
  );
  assert.equal(
    code({ image: IMAGE, resources: { requests: { memory: "1Qi" } } }),
    "InvalidRequest@body.resources.requests.memory",
  );
  assert.equal(
    code({ image: IMAGE, resources: { limits: { memory: "1Gi" }, requests: { memory: "2Gi" } } }),
    "InvalidRequest@body.resources.requests.memory",
  );
  assert.equal(code({ image: IMAGE, ttlSecondsAfterFinished: 29 }), "InvalidRequest@body.ttlSecondsAfterFinished");
  assert.equal(code({ image: IMAGE, backoffLimit: 4 }), "InvalidRequest@body.backoffLimit");
  assert.equal(code({ image: IMAGE, env: { BIG: "x".repeat(130 * 1024) } }), "InvalidRequest@body");
  assert.equal(code({ image: IMAGE, isolation: "none" }), "Forbidden@body.isolation");
  assert.equal(code({ image: "docker.io/library/ubuntu:22.04" }), "Forbidden@body.image");
  assert.equal(
    code({ image: IMAGE, resources: { limits: { cpu: "2.5" } } }),
    "JobLimitExceeded@body.resources.limits.cpu",
  );
  assert.equal(
    code({ image: IMAGE, resources: { limits: { memory: "5Gi" } } }),
    "JobLimitExceeded@body.resources.limits.memory",
  );
  assert.equal(code({ image: IMAGE, timeoutSeconds: 3601 }), "JobLimitExceeded@body.timeoutSeconds");
});
