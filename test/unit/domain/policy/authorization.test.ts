import { test } from "node:test";
import assert from "node:assert/strict";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import {
  authorizeClusterAccess,
  authorizeOwnedResource,
  authorizeSubscriptionAccess,
  canSeeCluster,
  clusterNotFound,
  isAuthorizationDenial,
  requireTeam,
  resourceNotFound,
  teamFilter,
} from "../../../../src/domain/policy/authorization.js";
import {
  ALPHA_CLUSTER,
  BETA_CLUSTER,
  SUB_ALPHA,
  SUB_BETA,
  fixturePolicy,
  principal,
} from "../../../support/policyFixtures.js";

const policy = fixturePolicy();
const alphaOperator = principal("alpha", ["Sandbox.Operator"]);
const admin = principal(undefined, ["Sandbox.Admin"]);

function thrown(fn: () => unknown): SandboxError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SandboxError);
    return error;
  }
  assert.fail("expected a SandboxError");
}

test("a cluster outside the team's scopes is indistinguishable from a missing one", () => {
  const denied = thrown(() => authorizeClusterAccess(alphaOperator, policy, BETA_CLUSTER, "read"));
  const missing = clusterNotFound(BETA_CLUSTER);
  assert.equal(denied.code, "NotFound");
  assert.equal(denied.message, missing.message);
  assert.equal(denied.target, missing.target);
  assert.ok(isAuthorizationDenial(denied));
  assert.ok(!isAuthorizationDenial(missing));
});

test("creating outside the team's scopes is 403 naming the scope; inside it returns the namespace", () => {
  const denied = thrown(() =>
    authorizeClusterAccess(alphaOperator, policy, { ...ALPHA_CLUSTER, resourceGroup: "rg-other" }, "create"),
  );
  assert.equal(denied.code, "Forbidden");
  assert.match(denied.message, /Team "alpha" may not create cluster "c1" in resource group "rg-other"/);
  assert.deepEqual(authorizeClusterAccess(alphaOperator, policy, ALPHA_CLUSTER, "create").namespace, "sandbox-alpha");
  // Names are case-insensitive in Azure, and so are the globs.
  assert.ok(
    canSeeCluster(alphaOperator, policy, {
      ...ALPHA_CLUSTER,
      resourceGroup: "RG-ALPHA-7",
      subscriptionId: SUB_ALPHA.toUpperCase(),
    }),
  );
  const betaAccess = authorizeClusterAccess(principal("beta", ["Sandbox.Reader"]), policy, BETA_CLUSTER, "read");
  assert.equal(betaAccess.namespace, "beta-jobs");
  assert.ok(
    !canSeeCluster(principal("beta", ["Sandbox.Reader"]), policy, { ...BETA_CLUSTER, resourceGroup: "rg-beta-10" }),
    "? matches one character",
  );
});

test("Admin sees every cluster and subscription; the namespace follows the Admin's team when it has one", () => {
  assert.equal(authorizeClusterAccess(admin, policy, BETA_CLUSTER, "change").namespace, undefined);
  assert.equal(
    authorizeClusterAccess(principal("alpha", ["Sandbox.Admin"]), policy, BETA_CLUSTER, "read").namespace,
    "sandbox-alpha",
  );
  authorizeSubscriptionAccess(admin, policy, SUB_BETA, "read");
});

test("subscriptions: invisible ones answer 404, a team sees its own", () => {
  authorizeSubscriptionAccess(alphaOperator, policy, SUB_ALPHA, "read");
  assert.equal(thrown(() => authorizeSubscriptionAccess(alphaOperator, policy, SUB_BETA, "read")).code, "NotFound");
  assert.equal(thrown(() => authorizeSubscriptionAccess(alphaOperator, policy, SUB_BETA, "create")).code, "Forbidden");
});

test("owned resources: own team or Admin; otherwise the caller's 404", () => {
  authorizeOwnedResource(alphaOperator, "alpha");
  authorizeOwnedResource(admin, "beta");
  const denied = thrown(() => authorizeOwnedResource(alphaOperator, "beta", resourceNotFound("job", "j1")));
  assert.equal(denied.code, "NotFound");
  assert.equal(denied.message, 'The job "j1" was not found.');
  assert.equal(
    thrown(() => authorizeOwnedResource(principal(undefined, ["Sandbox.Operator"]), undefined)).code,
    "NotFound",
  );
});

test("teamFilter and requireTeam", () => {
  assert.deepEqual(teamFilter(admin), { allTeams: true });
  assert.deepEqual(teamFilter(alphaOperator), { allTeams: false, team: "alpha" });
  assert.equal(thrown(() => teamFilter(principal(undefined, ["Sandbox.Reader"]))).code, "Forbidden");
  assert.equal(requireTeam(alphaOperator, policy).name, "alpha");
  assert.match(
    thrown(() => requireTeam(principal("gamma", ["Sandbox.Submitter"]), policy)).message,
    /Team "gamma" is not defined/,
  );
});
