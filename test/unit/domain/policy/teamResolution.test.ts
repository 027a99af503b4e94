import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveTeam, TeamResolvingTokenVerifier } from "../../../../src/domain/policy/teamResolution.js";
import { fixturePolicy, principal } from "../../../support/policyFixtures.js";

const policy = fixturePolicy();

test("the team claim wins; then the app mapping (bots); then an unambiguous group mapping", () => {
  assert.equal(
    resolveTeam(principal("alpha", [], { appId: "77777777-0000-0000-0000-00000000000b" }), policy).team,
    "alpha",
  );
  const bot = principal(undefined, ["Sandbox.Submitter"], {
    appId: "77777777-0000-0000-0000-00000000000B",
    name: "77777777-0000-0000-0000-00000000000b",
  });
  assert.equal(resolveTeam(bot, policy).team, "beta");
  assert.equal(
    resolveTeam(principal(undefined, [], { groups: ["x", "99999999-0000-0000-0000-00000000000a"] }), policy).team,
    "alpha",
  );
  assert.equal(
    resolveTeam(
      principal(undefined, [], {
        groups: ["99999999-0000-0000-0000-00000000000a", "99999999-0000-0000-0000-00000000000b"],
      }),
      policy,
    ).team,
    undefined,
    "ambiguous groups give no team",
  );
  assert.equal(resolveTeam(principal(undefined, []), policy).team, undefined);
});

test("the verifier decorator resolves every verified principal", async () => {
  const verifier = new TeamResolvingTokenVerifier(
    { verify: async () => principal(undefined, [], { groups: ["99999999-0000-0000-0000-00000000000b"] }) },
    policy,
  );
  assert.equal((await verifier.verify("t")).team, "beta");
});
