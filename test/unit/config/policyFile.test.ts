import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError, loadConfiguration } from "../../../src/config/configuration.js";
import { loadPolicyFile, parsePolicy } from "../../../src/config/policyFile.js";
import { DEMO_SUBSCRIPTION_ID, simulatedPolicyFile } from "../../../src/config/simulatedPolicy.js";

const env = {
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
  AUTH_ISSUER: "https://login.microsoftonline.com/tenant/v2.0",
  AUTH_AUDIENCE: "api://aks-pod-sandbox",
  AUTH_JWKS_URL: "https://login.microsoftonline.com/tenant/discovery/v2.0/keys",
};

test("the simulated sample policy is valid: alpha and beta on the demo subscription", () => {
  const { policy, problems } = loadPolicyFile(simulatedPolicyFile());
  assert.deepEqual(problems, []);
  assert.deepEqual([...policy!.teams.keys()].sort(), ["alpha", "beta"]);
  for (const team of policy!.teams.values())
    assert.ok(
      team.scopes.some((s) => s.subscriptionId === DEMO_SUBSCRIPTION_ID),
      team.name,
    );
  assert.match(DEMO_SUBSCRIPTION_ID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

test("every schema problem is reported at once, with its JSON pointer", () => {
  const result = parsePolicy({
    version: 2,
    extra: true,
    identity: { groupTeams: { "not-a-guid": "alpha" } },
    teams: {
      Alpha: {},
      beta: {
        scopes: [{ subscriptionId: "nope", clusters: [] }],
        quotas: { maxConcurrentJobs: -1, maxVCpuPerJob: 0 },
        allowedRegistries: ["HTTPS://x"],
      },
    },
  });
  assert.equal(result.policy, undefined);
  const text = result.problems.join("\n");
  for (const expected of [
    /^\/version: must be 1$/m,
    /^\/: unknown field "extra"$/m,
    /^\/identity\/groupTeams: property name "not-a-guid" is invalid$/m,
    /^\/teams: property name "Alpha" is invalid$/m,
    /^\/teams\/beta\/scopes\/0\/subscriptionId: must match pattern/m,
    /^\/teams\/beta\/scopes\/0\/clusters: must NOT have fewer than 1 items$/m,
    /^\/teams\/beta\/quotas\/maxConcurrentJobs: must be >= 0$/m,
    /^\/teams\/beta\/quotas\/maxVCpuPerJob: must be > 0$/m,
    /^\/teams\/beta\/allowedRegistries\/0: must match pattern/m,
  ]) {
    assert.match(text, expected);
  }
});

test("configuration: the policy file is required outside simulated mode, and its problems are configuration problems", () => {
  assert.throws(
    () => loadConfiguration(env),
    (e: unknown) =>
      e instanceof ConfigurationError && e.problems.some((p) => p.startsWith("SANDBOX_POLICY_FILE: required")),
  );
  const dir = mkdtempSync(join(tmpdir(), "policy-test-"));
  const bad = join(dir, "bad.json");
  writeFileSync(
    bad,
    JSON.stringify({ version: 1, teams: { alpha: { quotas: { maxTimeoutSeconds: 0 } }, beta: { nope: 1 } } }),
  );
  try {
    loadConfiguration({ ...env, LOG_LEVEL: "chatty", SANDBOX_POLICY_FILE: bad });
    assert.fail("expected ConfigurationError");
  } catch (error) {
    assert.ok(error instanceof ConfigurationError);
    assert.deepEqual(
      error.problems.filter((p) => p.startsWith("SANDBOX_POLICY_FILE")),
      [
        "SANDBOX_POLICY_FILE: /teams/alpha/quotas/maxTimeoutSeconds: must be >= 1",
        'SANDBOX_POLICY_FILE: /teams/beta: unknown field "nope"',
      ],
    );
    assert.ok(
      error.problems.some((p) => p.startsWith("LOG_LEVEL")),
      "other settings are still reported",
    );
  }
  writeFileSync(join(dir, "broken.json"), "{");
  assert.throws(
    () => loadConfiguration({ ...env, SANDBOX_POLICY_FILE: join(dir, "broken.json") }),
    /SANDBOX_POLICY_FILE: .*broken\.json is not valid JSON/,
  );
  const simulated = loadConfiguration({ ...env, SANDBOX_SIMULATE: "true" });
  assert.equal(simulated.policyFile, simulatedPolicyFile());
  assert.ok(simulated.policy.teams.has("alpha"));
  assert.ok(readFileSync(simulatedPolicyFile(), "utf8").includes("./policy.schema.json"));
});
