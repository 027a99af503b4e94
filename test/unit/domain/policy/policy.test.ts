import { test } from "node:test";
import assert from "node:assert/strict";
import { buildPolicy, DEFAULT_QUOTAS, globMatches, namespaceFor } from "../../../../src/domain/policy/policy.js";
import { ALPHA_CLUSTER, BETA_CLUSTER, fixturePolicy } from "../../../support/policyFixtures.js";

test("globs: * and ? only, anchored, case-insensitive, regex characters literal", () => {
  assert.ok(globMatches("rg-*", "RG-alpha"));
  assert.ok(globMatches("c?", "c1"));
  assert.ok(!globMatches("c?", "c12"));
  assert.ok(!globMatches("rg.a", "rgxa"));
  assert.ok(globMatches("rg(1)", "rg(1)"));
  assert.ok(!globMatches("alpha", "alpha-2"));
});

test("defaults merge field by field: built-in < policy defaults < team", () => {
  const policy = fixturePolicy();
  const alpha = policy.teams.get("alpha")!;
  const beta = policy.teams.get("beta")!;
  assert.deepEqual(alpha.quotas, { ...DEFAULT_QUOTAS, maxConcurrentJobs: 3 });
  assert.deepEqual(beta.quotas, {
    maxConcurrentJobs: 3,
    maxVCpuPerJob: 1,
    maxMemoryMiBPerJob: 1024,
    maxTimeoutSeconds: 600,
    ephemeralStorageMiBPerJob: 1024,
  });
  assert.deepEqual(beta.allowedRegistries, ["mcr.microsoft.com/"]);
  assert.equal(beta.allowRunAsRoot, false);
  assert.equal(namespaceFor(alpha, ALPHA_CLUSTER), "sandbox-alpha");
  assert.equal(namespaceFor(beta, BETA_CLUSTER), "beta-jobs");
  assert.ok(Object.isFrozen(alpha) && Object.isFrozen(alpha.quotas));
});

test("semantic problems: shared namespaces and mappings to unknown teams", () => {
  const { problems } = buildPolicy({
    version: 1,
    identity: { groupTeams: { "99999999-0000-0000-0000-00000000000a": "nobody" } },
    teams: {
      a1: { namespace: "shared" },
      b1: { scopes: [{ subscriptionId: "aaaaaaaa-0000-0000-0000-000000000001", namespace: "shared" }] },
    },
  });
  assert.equal(problems.length, 2);
  assert.match(problems.join("\n"), /namespace "shared" is already the namespace of team "a1"/);
  assert.match(problems.join("\n"), /team "nobody" is not defined/);
});
